{{/*
The other per-component resources, each written once and rendered by the component folders with
a component context (see _helpers.tpl).
*/}}

{{- define "philotes.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "philotes.componentFullname" . }}
  labels:
    {{- include "philotes.labels" . | nindent 4 }}
data:
  {{- include "philotes.configData" . | trim | nindent 2 }}
{{- end -}}

{{/* One Service per component, over all its pods (a reader Service spans every source). */}}
{{- define "philotes.service" -}}
{{- $values := index .root.Values (include "philotes.valuesKey" .component) -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "philotes.componentFullname" (dict "root" .root "component" .component) }}
  labels:
    {{- include "philotes.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  type: {{ $values.service.type }}
  selector:
    {{- include "philotes.selectorLabels" (dict "root" .root "component" .component) | nindent 4 }}
  ports:
    - name: http
      port: {{ default $values.port $values.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "philotes.serviceAccount" -}}
{{- $values := index .root.Values (include "philotes.valuesKey" .component) -}}
{{- if $values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "philotes.serviceAccountName" . }}
  labels:
    {{- include "philotes.labels" . | nindent 4 }}
  {{- with $values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{- define "philotes.podDisruptionBudget" -}}
{{- $values := index .root.Values (include "philotes.valuesKey" .component) -}}
{{- if $values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "philotes.componentFullname" . }}
  labels:
    {{- include "philotes.labels" . | nindent 4 }}
spec:
  # maxUnavailable, not minAvailable: a single replica can still be drained off its node.
  maxUnavailable: {{ $values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "philotes.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* Only the writers and the admin service scale horizontally; readers have one leader per source. */}}
{{- define "philotes.horizontalPodAutoscaler" -}}
{{- if eq .component "wal-reader" -}}
{{- fail "wal-reader is never autoscaled: one reader per source streams, the others stand by" -}}
{{- end -}}
{{- $values := index .root.Values (include "philotes.valuesKey" .component) -}}
{{- if $values.autoscaling.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "philotes.componentFullname" . }}
  labels:
    {{- include "philotes.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "philotes.componentFullname" . }}
  minReplicas: {{ $values.autoscaling.minReplicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}
{{- end -}}
