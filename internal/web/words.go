package web

import (
	"strconv"
	"strings"

	"github.com/cloche/cloche"
)

// The API's errors name its fields (group_names, user_ids,
// follower_user_id); the console speaks of what the operator sees on the
// page: this file turns a field error into the console's words. The API's
// own messages are left as they are.

// fieldLabels name each API field as the console's forms and filters do.
var fieldLabels = map[string]string{
	"recipients":       "Recipients",
	"group_names":      "Groups",
	"user_ids":         "User ids",
	"company_id":       "Company",
	"follower_user_id": "Follower of user",
	"account_type":     "Account type",
	"key":              "Type",
	"title":            "Title",
	"body":             "Body",
	"context":          "Context",
	"context.type":     "Context",
	"context.id":       "Context id",
	"check_url":        "Check URL",
	"until":            "Until",
	"due_datetime":     "Due",
	"force_channel":    "Channel",
	"default_channel":  "Default channel",
	"status":           "Status",
	"state":            "State",
	"q":                "Search",
	"recipient":        "Recipient",
	"offset":           "Page",
}

// fieldLabel names an API field ("user_ids[2]": "User ids, the 3rd").
func fieldLabel(field string) string {
	name, rest, indexed := strings.Cut(field, "[")
	label, ok := fieldLabels[name]
	if !ok {
		label = strings.ReplaceAll(name, "_", " ")
		label = strings.ToUpper(label[:1]) + label[1:]
	}
	if indexed {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
			label += ", value " + strconv.Itoa(n+1)
		}
	}
	return label
}

// problemWords is the console's sentence for a field error, when the API's
// names fields the operator does not see.
func problemWords(fe *cloche.FieldError) string {
	if fe.Field == "recipients" && strings.HasPrefix(fe.Problem, "name at least one of") {
		return "Name at least one recipient: a group, a person, a company, a person's follower or an account type."
	}
	return apiNames.Replace(fe.Problem)
}

// apiNames turns the API field names an API problem may mention into the
// console's words.
var apiNames = strings.NewReplacer(
	"due_datetime", "the due time",
	"follower_user_id", "the follower",
	"group_names", "groups",
	"user_ids", "user ids",
	"company_id", "the company",
	"force_channel", "the channel",
)

// inWords says err in the console's words: each field error as "Label:
// problem", the rest as it is.
func inWords(err error) string {
	fes := cloche.FieldErrors(err)
	if len(fes) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(fes))
	for _, fe := range fes {
		if fe.Field == "recipients" {
			parts = append(parts, problemWords(fe))
			continue
		}
		parts = append(parts, fieldLabel(fe.Field)+": "+problemWords(fe))
	}
	return strings.Join(parts, " ")
}
