// Package docs holds labctl's user documentation (the *.md files here).
// It has no code: its test checks that every HCL example in README.md,
// docs/*.md and labs/*/README.md loads and validates (see docs_test.go).
//
// A ```hcl block is a complete lab unless the line right before its
// fence is the HTML comment
//
//	<!-- fragment -->
//
// (invisible when rendered). A fragment is validated inside a minimal lab
// that adds only the blocks the fragment refers to and does not declare.
package docs
