# Build a static cardflow binary, then run it on a minimal base as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cardflow ./cmd/cardflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cardflow /usr/local/bin/cardflow
COPY configs /etc/cardflow/configs
WORKDIR /var/lib/cardflow
ENV CARDFLOW_FLOWS_DIR=/etc/cardflow/configs/flows
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/cardflow"]
CMD ["serve", "--config", "/etc/cardflow/configs/cardflow.example.yaml"]
