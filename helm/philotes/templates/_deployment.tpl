{{/*
The one Deployment template of all three apps (and of every source's readers): what differs
between them comes from the component's values block, the component context (see _helpers.tpl)
and philotes.secretEnv, never from a copied manifest. Probes are each rendered from their own
values (startupProbe, livenessProbe, readinessProbe) on the port the app is told to listen on.
*/}}
{{- define "philotes.deployment" -}}
{{- $root := .root -}}
{{- $values := index $root.Values (include "philotes.valuesKey" .component) -}}
{{- $name := include "philotes.componentFullname" . -}}
{{- $source := .source | default dict -}}
{{- $autoscaled := and $values.autoscaling $values.autoscaling.enabled -}}
{{- $replicas := hasKey $source "replicas" | ternary $source.replicas $values.replicas -}}
{{- $localWarehouse := and (eq .component "iceberg-writer") (not (hasPrefix "s3://" $root.Values.warehouse.location)) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "philotes.labels" . | nindent 4 }}
spec:
  {{- if not $autoscaled }}
  replicas: {{ $replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  # A new pod is ready before an old one stops: readers hand over the source, writers their tables.
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "philotes.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "philotes.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: philotes
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "philotes.configData" . | sha256sum }}
        checksum/secret: {{ include "philotes.secretValuesDigest" $root }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "philotes.serviceAccountName" . }}
      # The apps never call the Kubernetes API.
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
      {{- with $values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "philotes.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["node", "dist/apps/{{ .component }}/main.js"]
          ports:
            - name: http
              containerPort: {{ $values.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $name }}
          env:
            # The image's default too; stated here because it makes dlq-admin refuse to run without a token.
            - name: NODE_ENV
              value: production
            - name: PHILOTES_INSTANCE_ID
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            {{- include "philotes.secretEnv" . | nindent 12 }}
          startupProbe:
            httpGet:
              path: /health/live
              port: http
            {{- toYaml $values.startupProbe | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /health/live
              port: http
            {{- toYaml $values.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            {{- toYaml $values.readinessProbe | nindent 12 }}
          resources:
            {{- toYaml ($source.resources | default $values.resources) | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "philotes.tmpVolumeMount" . | nindent 12 }}
            {{- if $localWarehouse }}
            - name: warehouse
              mountPath: {{ $root.Values.warehouse.location }}
            {{- end }}
      volumes:
        {{- include "philotes.tmpVolume" . | nindent 8 }}
        {{- if $localWarehouse }}
        - name: warehouse
          {{- toYaml $root.Values.warehouse.volume | nindent 10 }}
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      affinity:
        {{- if $values.affinity }}
        {{- toYaml $values.affinity | nindent 8 }}
        {{- else }}
        # A node failure should not take every replica (a reader and its standby) at once.
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "philotes.selectorLabels" . | nindent 20 }}
        {{- end }}
{{- end -}}
