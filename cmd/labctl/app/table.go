package app

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
)

// table is a tablewriter table that keeps its first error.
type table struct {
	t   *tablewriter.Table
	err error
}

func newTable(w io.Writer, header ...any) *table {
	t := tablewriter.NewWriter(w)
	t.Header(header...)
	return &table{t: t}
}

func (t *table) row(cells ...any) {
	if t.err == nil {
		t.err = t.t.Append(cells...)
	}
}

func (t *table) render() error {
	if t.err != nil {
		return fmt.Errorf("table: %w", t.err)
	}
	if err := t.t.Render(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}
