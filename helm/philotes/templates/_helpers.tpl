{{/*
Names, labels and the pieces every component shares. A "component context" is a dict:
  root      the chart's top-level context ($)
  component "wal-reader", "iceberg-writer" or "dlq-admin" (also the app's name in the image)
  source    the entry of .Values.sources a reader serves (readers only)
*/}}

{{- define "philotes.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "philotes.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The key of a component's block in values.yaml. */}}
{{- define "philotes.valuesKey" -}}
{{- get (dict "wal-reader" "walReader" "iceberg-writer" "icebergWriter" "dlq-admin" "dlqAdmin") . -}}
{{- end -}}

{{/* A source id as it may appear in a resource name (ids may hold "_", names may not). */}}
{{- define "philotes.sourceName" -}}
{{- .id | replace "_" "-" -}}
{{- end -}}

{{/* "<fullname>-<component>", and "-<source>" for a reader. */}}
{{- define "philotes.componentFullname" -}}
{{- $name := printf "%s-%s" (include "philotes.fullname" .root) .component -}}
{{- if .source -}}
{{- $name = printf "%s-%s" $name (include "philotes.sourceName" .source) -}}
{{- end -}}
{{- $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "philotes.selectorLabels" -}}
app.kubernetes.io/name: {{ include "philotes.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- if .source }}
philotes.io/source: {{ .source.id | quote }}
{{- end }}
{{- end -}}

{{- define "philotes.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "philotes.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: philotes
{{- end -}}

{{- define "philotes.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "philotes.serviceAccountName" -}}
{{- $values := index .root.Values (include "philotes.valuesKey" .component) -}}
{{- if $values.serviceAccount.create -}}
{{- default (printf "%s-%s" (include "philotes.fullname" .root) .component | trunc 63 | trimSuffix "-") $values.serviceAccount.name -}}
{{- else -}}
{{- default "default" $values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The chart's own Secret (inline values and the generated admin token). */}}
{{- define "philotes.secretName" -}}
{{- include "philotes.fullname" . -}}
{{- end -}}

{{/*
A setting's value as the text of an environment variable. Helm reads numbers from values files as
floats, which would print 1073741824 as 1.073741824e+09; whole numbers print as integers.
*/}}
{{- define "philotes.settingValue" -}}
{{- if kindIs "float64" . -}}
{{- if eq (floor .) . -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret settings of one component (or one source's readers), as ConfigMap data in key
order: the shared `config`, then the component's, then the source's, then what the chart derives
from its own values. The schema keeps those last names out of the `config` maps, so nothing the
user wrote is silently replaced. The same text feeds the ConfigMap and the pods' checksum/config.
*/}}
{{- define "philotes.configData" -}}
{{- $root := .root -}}
{{- $values := index $root.Values (include "philotes.valuesKey" .component) -}}
{{- $settings := dict -}}
{{- range $name, $value := $root.Values.config }}{{ $_ := set $settings $name $value }}{{ end -}}
{{- range $name, $value := $values.config }}{{ $_ := set $settings $name $value }}{{ end -}}
{{- if .source -}}
{{- range $name, $value := .source.config }}{{ $_ := set $settings $name $value }}{{ end -}}
{{- end -}}
{{- $_ := set $settings "PHILOTES_DATABASE_MIGRATE" (not $root.Values.migrations.enabled) -}}
{{- if eq .component "dlq-admin" -}}
{{- $_ := set $settings "PHILOTES_ADMIN_LISTEN_ADDR" (printf ":%v" (include "philotes.settingValue" $values.port)) -}}
{{- else -}}
{{- $_ := set $settings "PHILOTES_HEALTH_ENABLED" true -}}
{{- $_ := set $settings "PHILOTES_HEALTH_LISTEN_ADDR" (printf ":%v" (include "philotes.settingValue" $values.port)) -}}
{{- end -}}
{{- if .source -}}
{{- $_ := set $settings "PHILOTES_CDC_SOURCE_ID" .source.id -}}
{{- if not (or .source.url (and .source.existingSecret .source.existingSecret.urlKey)) -}}
{{- $_ := set $settings "PHILOTES_CDC_SOURCE_HOST" .source.host -}}
{{- $_ := set $settings "PHILOTES_CDC_SOURCE_PORT" (default 5432 .source.port) -}}
{{- $_ := set $settings "PHILOTES_CDC_SOURCE_DATABASE" (required (printf "sources[%s].database is required with host" .source.id) .source.database) -}}
{{- $_ := set $settings "PHILOTES_CDC_SOURCE_USER" (required (printf "sources[%s].user is required with host" .source.id) .source.user) -}}
{{- end -}}
{{- end -}}
{{- if eq .component "iceberg-writer" -}}
{{- $warehouse := $root.Values.warehouse -}}
{{- $_ := set $settings "PHILOTES_ICEBERG_WAREHOUSE" $warehouse.location -}}
{{- if hasPrefix "s3://" $warehouse.location -}}
{{- if $warehouse.s3.endpoint }}{{ $_ := set $settings "PHILOTES_ICEBERG_S3_ENDPOINT" $warehouse.s3.endpoint }}{{ end -}}
{{- $_ := set $settings "PHILOTES_ICEBERG_S3_REGION" $warehouse.s3.region -}}
{{- $_ := set $settings "PHILOTES_ICEBERG_S3_PATH_STYLE" $warehouse.s3.pathStyle -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := $settings }}
{{ $name }}: {{ include "philotes.settingValue" $value | quote }}
{{- end -}}
{{- end -}}

{{/* Where the buffer URL comes from: an existing Secret, or the chart's own (or the hook's). */}}
{{- define "philotes.bufferUrlEnv" -}}
{{- $buffer := .root.Values.buffer -}}
- name: PHILOTES_DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if $buffer.existingSecret.name }}
      name: {{ $buffer.existingSecret.name }}
      key: {{ $buffer.existingSecret.key }}
      {{- else }}
      name: {{ .secretName }}
      key: database-url
      {{- end }}
{{- end -}}

{{/* The secret settings of one component, as container env entries referencing Secrets. */}}
{{- define "philotes.secretEnv" -}}
{{- $root := .root -}}
{{- include "philotes.bufferUrlEnv" (dict "root" $root "secretName" (include "philotes.secretName" $root)) }}
{{- if .source }}
{{- $existing := .source.existingSecret | default dict }}
{{- if $existing.urlKey }}
- name: PHILOTES_CDC_SOURCE_URL
  valueFrom: { secretKeyRef: { name: {{ $existing.name }}, key: {{ $existing.urlKey }} } }
{{- else if .source.url }}
- name: PHILOTES_CDC_SOURCE_URL
  valueFrom: { secretKeyRef: { name: {{ include "philotes.secretName" $root }}, key: {{ printf "source-%s-url" .source.id }} } }
{{- else if $existing.passwordKey }}
- name: PHILOTES_CDC_SOURCE_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $existing.name }}, key: {{ $existing.passwordKey }} } }
{{- else }}
- name: PHILOTES_CDC_SOURCE_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ include "philotes.secretName" $root }}, key: {{ printf "source-%s-password" .source.id }} } }
{{- end }}
{{- end }}
{{- if eq .component "iceberg-writer" }}
{{- $s3 := $root.Values.warehouse.s3 }}
{{- if and (hasPrefix "s3://" $root.Values.warehouse.location) (or $s3.existingSecret.name $s3.accessKeyId) }}
- name: PHILOTES_ICEBERG_S3_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ default (include "philotes.secretName" $root) $s3.existingSecret.name }}, key: {{ ternary $s3.existingSecret.accessKeyIdKey "s3-access-key-id" (not (empty $s3.existingSecret.name)) }} } }
- name: PHILOTES_ICEBERG_S3_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ default (include "philotes.secretName" $root) $s3.existingSecret.name }}, key: {{ ternary $s3.existingSecret.secretAccessKeyKey "s3-secret-access-key" (not (empty $s3.existingSecret.name)) }} } }
{{- end }}
{{- end }}
{{- if eq .component "dlq-admin" }}
{{- $auth := $root.Values.dlqAdmin.auth }}
- name: PHILOTES_ADMIN_TOKEN
  valueFrom: { secretKeyRef: { name: {{ default (include "philotes.secretName" $root) $auth.existingSecret.name }}, key: {{ ternary $auth.existingSecret.key "admin-token" (not (empty $auth.existingSecret.name)) }} } }
{{- end }}
{{- end -}}

{{/*
The inline secret values as given in values.yaml (not the generated token, which is random until
stored): pods roll when one of them changes. Secrets of your own do not roll pods; restart them.
*/}}
{{- define "philotes.secretValuesDigest" -}}
{{- $sources := list -}}
{{- range .Values.sources }}{{ $sources = append $sources (dict "id" .id "url" .url "password" .password) }}{{ end -}}
{{- dict "buffer" .Values.buffer.url "sources" $sources "s3" (list .Values.warehouse.s3.accessKeyId .Values.warehouse.s3.secretAccessKey) "token" .Values.dlqAdmin.auth.token | toJson | sha256sum -}}
{{- end -}}

{{/* Container and pod pieces shared by the Deployments and the migration Job. */}}
{{- define "philotes.tmpVolumeMount" -}}
# The root filesystem is read-only; Node and its libraries get a writable /tmp.
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "philotes.tmpVolume" -}}
- name: tmp
  emptyDir: { sizeLimit: 256Mi }
{{- end -}}
