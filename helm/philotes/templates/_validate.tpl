{{/*
Checks across values that values.schema.json cannot express; each failure says what to set.
Rendered once, from secret.yaml.
*/}}
{{- define "philotes.validate" -}}
{{- $values := .Values -}}
{{- if not (or $values.buffer.url $values.buffer.existingSecret.name) -}}
{{- fail "buffer: set buffer.url or buffer.existingSecret.name (the buffer database URL)" -}}
{{- end -}}
{{- if not $values.sources -}}
{{- fail "sources: list at least one source database (each gets its own wal-reader Deployment)" -}}
{{- end -}}
{{- $names := dict -}}
{{- range $values.sources -}}
{{- $name := include "philotes.sourceName" . -}}
{{- if hasKey $names $name -}}
{{- fail (printf "sources: ids %q and %q name the same Deployment (%s); choose ids that differ by more than _ and -" (get $names $name) .id $name) -}}
{{- end -}}
{{- $_ := set $names $name .id -}}
{{- $existing := .existingSecret | default dict -}}
{{- if and $existing.name (not (or $existing.urlKey $existing.passwordKey)) -}}
{{- fail (printf "sources[%s].existingSecret: set urlKey (a connection URL) or passwordKey (the password, with host, database and user)" .id) -}}
{{- end -}}
{{- if and (or $existing.urlKey $existing.passwordKey) (not $existing.name) -}}
{{- fail (printf "sources[%s].existingSecret.name is required with urlKey or passwordKey" .id) -}}
{{- end -}}
{{- $hasUrl := or .url $existing.urlKey -}}
{{- if and (not $hasUrl) (not .host) -}}
{{- fail (printf "sources[%s]: set url, existingSecret.urlKey, or host with database, user and password" .id) -}}
{{- end -}}
{{- if and (not $hasUrl) (not (or .password $existing.passwordKey)) -}}
{{- fail (printf "sources[%s]: set password or existingSecret.passwordKey (otherwise the reader would use the built-in default password)" .id) -}}
{{- end -}}
{{- end -}}
{{- $location := $values.warehouse.location -}}
{{- if not $location -}}
{{- fail "warehouse.location: set s3://bucket/prefix, or an absolute path together with warehouse.volume" -}}
{{- end -}}
{{- if not (hasPrefix "s3://" $location) -}}
{{- if not (hasPrefix "/" $location) -}}
{{- fail (printf "warehouse.location %q: use s3://bucket/prefix or an absolute path" $location) -}}
{{- end -}}
{{- if not $values.warehouse.volume -}}
{{- fail "warehouse.volume: a path warehouse needs a volume every writer mounts (e.g. a ReadWriteMany persistentVolumeClaim); an emptyDir would lose committed tables" -}}
{{- end -}}
{{- end -}}
{{- $s3 := $values.warehouse.s3 -}}
{{- if and (not $s3.existingSecret.name) (ne (empty $s3.accessKeyId) (empty $s3.secretAccessKey)) -}}
{{- fail "warehouse.s3: set both accessKeyId and secretAccessKey, or neither" -}}
{{- end -}}
{{- end -}}
