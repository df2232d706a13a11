package store

// EventFields are what an inbox item shows of its event.
type EventFields struct {
	Key         string
	StatusType  StatusType
	Title       string
	Body        string
	ContextType string
	ContextID   string
	URL         string
	Actions     []ItemAction
}

// DistinctEventIDs returns the event ids of items, each once, in order of
// first appearance: what a backend reads to fill the items in.
func DistinctEventIDs(items []InboxItem) []int64 {
	seen := make(map[int64]bool, len(items))
	var ids []int64
	for _, it := range items {
		if !seen[it.EventID] {
			seen[it.EventID] = true
			ids = append(ids, it.EventID)
		}
	}
	return ids
}

// FillEventFields sets each item's event fields from events, in place,
// leaving out items whose event is not there (it was deleted).
func FillEventFields(items []InboxItem, events map[int64]EventFields) []InboxItem {
	out := items[:0]
	for _, it := range items {
		e, ok := events[it.EventID]
		if !ok {
			continue
		}
		it.Key, it.StatusType, it.Title, it.Body = e.Key, e.StatusType, e.Title, e.Body
		it.ContextType, it.ContextID = e.ContextType, e.ContextID
		it.URL, it.Actions = e.URL, e.Actions
		out = append(out, it)
	}
	return out
}
