//go:build tools

// Package tools names the commands this module builds, so that `go mod tidy`
// keeps every module they need in go.sum.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
