// Package configs holds cardflow's example configuration, flows and org
// directory. They are embedded in the binary, so that cardflow demo runs
// from any directory: where no configs/ folder is found, the demo loads
// these.
package configs

import "embed"

// Examples are flows/*.yaml, org.example.yaml, cardflow.example.yaml,
// order_rules.example.yaml and kpis.example.yaml.
//
//go:embed flows/*.yaml org.example.yaml cardflow.example.yaml order_rules.example.yaml kpis.example.yaml
var Examples embed.FS
