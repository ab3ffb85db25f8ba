{{/* Common metadata labels (not used in selectors). */}}
{{- define "plane.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* Pod label that selects one service: app.name: <namespace>-<release>-<svc>. Arg: (list $ "svc"). */}}
{{- define "plane.appName" -}}
{{- $root := index . 0 -}}
{{ $root.Release.Namespace }}-{{ $root.Release.Name }}-{{ index . 1 }}
{{- end }}

{{/* envFrom shared by the backend workloads. */}}
{{- define "plane.backendEnv" -}}
envFrom:
  - configMapRef:
      name: {{ .Release.Name }}-app-vars
      optional: false
  - secretRef:
      name: {{ .Release.Name }}-app-secrets
      optional: false
{{- end }}

{{/*
A Plane-style Deployment. Arg: dict with
  root, svc (label/service name), key (values key under .Values.services),
  image, port (optional), probePath (optional, adds a readinessProbe), command (optional list),
  cpu, memory
*/}}
{{- define "plane.deployment" -}}
{{- $root := .root -}}
{{- $cfg := index $root.Values.services .key -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  namespace: {{ $root.Release.Namespace }}
  name: {{ $root.Release.Name }}-{{ .svc }}-wl
  labels:
    {{- include "plane.labels" $root | nindent 4 }}
spec:
  replicas: {{ $cfg.replicas }}
  selector:
    matchLabels:
      app.name: {{ include "plane.appName" (list $root .svc) }}
  template:
    metadata:
      namespace: {{ $root.Release.Namespace }}
      labels:
        app.name: {{ include "plane.appName" (list $root .svc) }}
        {{- include "plane.labels" $root | nindent 8 }}
    spec:
      containers:
      - name: {{ $root.Release.Name }}-{{ .svc }}
        imagePullPolicy: IfNotPresent
        image: {{ .image }}:{{ $root.Values.planeVersion }}
        stdin: true
        tty: true
        resources:
          requests:
            memory: {{ .memory | default "128Mi" | quote }}
            cpu: {{ .cpu | default "50m" | quote }}
          limits:
            memory: "1Gi"
            cpu: "500m"
        {{- with .command }}
        command:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- include "plane.backendEnv" $root | nindent 8 }}
        {{- if .port }}
        ports:
        - containerPort: {{ .port }}
          protocol: TCP
        {{- end }}
        {{- if .probePath }}
        readinessProbe:
          failureThreshold: 30
          httpGet:
            path: {{ .probePath }}
            port: {{ .port }}
            scheme: HTTP
          periodSeconds: 10
          successThreshold: 1
          timeoutSeconds: 1
        {{- end }}
      serviceAccount: {{ $root.Release.Name }}-srv-account
      serviceAccountName: {{ $root.Release.Name }}-srv-account
{{- end }}

{{/* A ClusterIP Service for one service. Arg: dict root, svc, port, targetPort (optional). */}}
{{- define "plane.service" -}}
apiVersion: v1
kind: Service
metadata:
  namespace: {{ .root.Release.Namespace }}
  name: {{ .root.Release.Name }}-{{ .svc }}
  labels:
    {{- include "plane.labels" .root | nindent 4 }}
spec:
  ports:
  - name: {{ .svc }}-{{ .port }}
    port: {{ .port }}
    protocol: TCP
    targetPort: {{ .targetPort | default .port }}
  selector:
    app.name: {{ include "plane.appName" (list .root .svc) }}
{{- end }}

{{/*
A Plane-style single-replica StatefulSet with one RWO volumeClaimTemplate.
Arg: dict root, svc, key, image, port, mountPath, cpu, memory, extra (optional raw container YAML)
*/}}
{{- define "plane.statefulset" -}}
{{- $root := .root -}}
{{- $cfg := index $root.Values.services .key -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  namespace: {{ $root.Release.Namespace }}
  name: {{ $root.Release.Name }}-{{ .svc }}-wl
  labels:
    {{- include "plane.labels" $root | nindent 4 }}
spec:
  replicas: {{ $cfg.replicas }}
  selector:
    matchLabels:
      app.name: {{ include "plane.appName" (list $root .svc) }}
  serviceName: {{ $root.Release.Name }}-{{ .svc }}
  template:
    metadata:
      labels:
        app.name: {{ include "plane.appName" (list $root .svc) }}
        {{- include "plane.labels" $root | nindent 8 }}
    spec:
      containers:
      - image: {{ .image }}
        imagePullPolicy: IfNotPresent
        name: {{ $root.Release.Name }}-{{ .svc }}
        resources:
          requests:
            memory: {{ .memory | default "256Mi" | quote }}
            cpu: {{ .cpu | default "100m" | quote }}
        ports:
        - containerPort: {{ .port }}
        {{- with .extra }}
        {{- . | nindent 8 }}
        {{- end }}
        volumeMounts:
        - mountPath: {{ .mountPath }}
          name: pvc-{{ $root.Release.Name }}-{{ .svc }}-vol
          subPath: ''
      serviceAccount: {{ $root.Release.Name }}-srv-account
      serviceAccountName: {{ $root.Release.Name }}-srv-account
  volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      namespace: {{ $root.Release.Namespace }}
      name: pvc-{{ $root.Release.Name }}-{{ .svc }}-vol
    spec:
      accessModes:
      - ReadWriteOnce
      resources:
        requests:
          storage: {{ $cfg.volumeSize | quote }}
      {{- with $root.Values.env.storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      volumeMode: Filesystem
{{- end }}
