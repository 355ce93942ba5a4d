{{/*
The migration Job runs before install and before upgrade, when none of the release's other
resources exist yet (install) or still hold the old version (upgrade). So it references only hook
resources created before it (lower weight) and Secrets of your own, never the release's Secret or
ConfigMaps. Hook resources are deleted once every hook of the phase succeeded; a failed Job stays
for `kubectl logs` until the next attempt replaces it.
*/}}
{{- define "philotes.migrationHook" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{- define "philotes.migrationName" -}}
{{- printf "%s-migrate" (include "philotes.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
