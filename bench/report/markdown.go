package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/labctl/labctl/bench/result"
)

// Markdown writes the report's tables as GitHub-flavoured markdown.
func Markdown(w io.Writer, runs []*result.Run) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Bench report\n\n")
	for _, t := range tables(runs) {
		fmt.Fprintf(bw, "## %s\n\n", t.Title)
		if t.Note != "" {
			fmt.Fprintf(bw, "%s\n\n", t.Note)
		}
		writeRow(bw, t.Header)
		sep := make([]string, len(t.Header))
		for i := range sep {
			sep[i] = "---"
		}
		writeRow(bw, sep)
		for _, r := range t.Rows {
			writeRow(bw, r)
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

func writeRow(w io.Writer, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		esc[i] = strings.ReplaceAll(strings.ReplaceAll(c, "|", `\|`), "\n", " ")
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
}
