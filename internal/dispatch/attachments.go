package dispatch

import (
	"fmt"
	"mime"
	"strings"
	"unicode"

	"github.com/cloche/cloche/internal/store"
)

// DefaultMaxAttachmentSize bounds a notification's attachments, all
// together, when the configuration does not say.
const DefaultMaxAttachmentSize = 10 << 20

// MaxAttachments is how many files one notification may carry.
const MaxAttachments = 20

// validateAttachments checks names, content types and the total size, and
// fills in a missing content type.
func validateAttachments(atts []store.Attachment, maxTotal int64) []error {
	var errs []error
	if len(atts) > MaxAttachments {
		errs = append(errs, store.Invalid("attachments", "has %d files, at most %d are allowed", len(atts), MaxAttachments))
	}
	var total int64
	for i := range atts {
		a := &atts[i]
		field := fmt.Sprintf("attachments[%d]", i)
		a.Name = strings.TrimSpace(a.Name)
		switch err := store.CheckText(field+".name", a.Name); {
		case err != nil:
			errs = append(errs, err)
		case a.Name == "":
			errs = append(errs, store.Invalid(field+".name", "must not be empty"))
		case len(a.Name) > 255:
			errs = append(errs, store.Invalid(field+".name", "is longer than 255 bytes"))
		case strings.ContainsAny(a.Name, `/\`) || a.Name == "." || a.Name == "..":
			errs = append(errs, store.Invalid(field+".name", "%q must be a file name, not a path", a.Name))
		case strings.IndexFunc(a.Name, unicode.IsControl) >= 0:
			errs = append(errs, store.Invalid(field+".name", "%q must not contain control characters", a.Name))
		}
		a.ContentType = strings.TrimSpace(a.ContentType)
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
		if err := store.CheckText(field+".content_type", a.ContentType); err != nil {
			errs = append(errs, err)
		} else if mt, _, err := mime.ParseMediaType(a.ContentType); err != nil || !strings.Contains(mt, "/") {
			errs = append(errs, store.Invalid(field+".content_type", "%q is not a media type such as application/pdf", a.ContentType))
		}
		total += int64(len(a.Data))
	}
	if total > maxTotal {
		errs = append(errs, store.Invalid("attachments", "weigh %d bytes together, more than the %d allowed", total, maxTotal).
			WithHint("raise email.max_attachment_size, or send a link instead"))
	}
	return errs
}
