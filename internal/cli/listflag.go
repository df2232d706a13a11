package cli

import (
	"strings"

	"github.com/alecthomas/kong"
)

// listFlag is a repeatable flag whose values may also be given as several
// words after it, as enDI's command line takes them: `--uids 1 2`, besides
// `--uids 1,2` and `--uids 1 --uids 2`. Each word is split at the flag's
// separator (the `sep` tag; comma unless `sep:"none"`). The words end at
// the next flag; a command with a list flag takes no positional argument,
// so that no word is ambiguous.
type listFlag []string

// Decode implements kong.MapperValue.
func (l *listFlag) Decode(ctx *kong.DecodeContext) error {
	first, err := ctx.Scan.PopValue("value")
	if err != nil {
		return err
	}
	words := []kong.Token{first}
	words = append(words, ctx.Scan.PopWhile(func(t kong.Token) bool { return t.IsValue() })...)
	sep := ctx.Value.Tag.Sep
	for _, w := range words {
		s := w.String()
		if sep == -1 {
			*l = append(*l, s)
			continue
		}
		*l = append(*l, strings.Split(s, string(sep))...)
	}
	return nil
}
