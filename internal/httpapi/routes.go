package httpapi

// apiRoutes lists every operation: the router registers them, and a test
// checks the OpenAPI document against them.
func (s *Server) apiRoutes() []route {
	const v1 = "/api/v1"
	rs := []route{
		{method: "GET", path: "/healthz", access: public, handle: s.healthz},
		{method: "GET", path: "/readyz", access: public, handle: s.readyz},
		{method: "GET", path: v1 + "/openapi.json", access: public, handle: s.openAPI},

		// Events.
		{method: "POST", path: v1 + "/events", access: hostKey, handle: s.notify, maxBody: s.notifyMaxBody()},
		{method: "GET", path: v1 + "/events", access: hostKey, handle: s.listEvents},
		{method: "GET", path: v1 + "/events/{id}", access: hostKey, handle: s.showEvent},
		{method: "POST", path: v1 + "/events/{id}/cancel", access: hostKey, handle: s.cancelEvent},
		{method: "POST", path: v1 + "/events/cancel", access: hostKey, handle: s.cancelByContext},

		// Notification types.
		{method: "GET", path: v1 + "/types", access: hostKey, handle: s.listTypes},
		{method: "GET", path: v1 + "/types/{key}", access: hostKey, handle: s.showType},
		{method: "PUT", path: v1 + "/types/{key}", access: hostKey, handle: s.putType},
		{method: "DELETE", path: v1 + "/types/{key}", access: hostKey, handle: s.deleteType},

		// Directory.
		{method: "GET", path: v1 + "/users", access: hostKey, handle: s.listUsers},
		{method: "GET", path: v1 + "/users/{id}", access: hostKey, handle: s.showUser},
		{method: "PUT", path: v1 + "/users/{id}", access: hostKey, handle: s.putUser},
		{method: "DELETE", path: v1 + "/users/{id}", access: hostKey, handle: s.deleteUser},
		{method: "GET", path: v1 + "/groups", access: hostKey, handle: s.listGroups},
		{method: "GET", path: v1 + "/groups/{name}/members", access: hostKey, handle: s.groupMembers},
		{method: "PUT", path: v1 + "/groups/{name}/members", access: hostKey, handle: s.putGroupMembers},
		{method: "DELETE", path: v1 + "/groups/{name}", access: hostKey, handle: s.deleteGroup},
		{method: "GET", path: v1 + "/companies/{id}", access: hostKey, handle: s.showCompany},
		{method: "PUT", path: v1 + "/companies/{id}", access: hostKey, handle: s.putCompany},
		{method: "DELETE", path: v1 + "/companies/{id}", access: hostKey, handle: s.deleteCompany},
		{method: "POST", path: v1 + "/directory/import", access: hostKey, handle: s.importDirectory,
			maxBody: s.cfg.HTTP.MaxImportBytes},
		{method: "PUT", path: v1 + "/directory", access: hostKey, handle: s.syncDirectory,
			maxBody: s.cfg.HTTP.MaxImportBytes},

		// Deliveries of every outbound channel.
		{method: "GET", path: v1 + "/deliveries", access: hostKey, handle: s.listDeliveries},
		{method: "GET", path: v1 + "/deliveries/{id}", access: hostKey, handle: s.showDelivery},
		{method: "POST", path: v1 + "/deliveries/{id}/retry", access: hostKey, handle: s.retryDelivery},

		// Outgoing webhooks.
		{method: "GET", path: v1 + "/webhooks", access: hostKey, handle: s.listWebhooks},
		{method: "POST", path: v1 + "/webhooks", access: hostKey, handle: s.createWebhook},
		{method: "GET", path: v1 + "/webhooks/{id}", access: hostKey, handle: s.showWebhook},
		{method: "DELETE", path: v1 + "/webhooks/{id}", access: hostKey, handle: s.deleteWebhook},
		{method: "POST", path: v1 + "/webhooks/{id}/pause", access: hostKey, handle: s.pauseWebhook},
		{method: "POST", path: v1 + "/webhooks/{id}/resume", access: hostKey, handle: s.resumeWebhook},
		{method: "POST", path: v1 + "/webhooks/{id}/test", access: hostKey, handle: s.testWebhook},

		// Organisation default preferences.
		{method: "GET", path: v1 + "/preferences/defaults", access: hostKey, handle: s.showPreferenceDefaults},
		{method: "PUT", path: v1 + "/preferences/defaults", access: hostKey, handle: s.putPreferenceDefaults},

		// User tokens.
		{method: "POST", path: v1 + "/users/{id}/token", access: hostKey, handle: s.mintToken},

		// Browser push: the key to subscribe with, a user's browsers.
		{method: "GET", path: v1 + "/push/public-key", access: public, handle: s.pushPublicKey},
		{method: "POST", path: v1 + "/me/push-subscriptions", access: userOnly, handle: s.pushSubscribe},
		{method: "DELETE", path: v1 + "/me/push-subscriptions", access: userOnly, handle: s.pushUnsubscribe},
	}
	// A user's notifications and preferences: their own with a user
	// token, anyone's with an API key.
	for _, base := range []struct {
		prefix string
		access access
	}{{v1 + "/me", userOnly}, {v1 + "/users/{id}", hostKey}} {
		rs = append(rs,
			route{method: "GET", path: base.prefix + "/notifications", access: base.access, handle: s.listNotifications, cached: true},
			route{method: "GET", path: base.prefix + "/notifications/{nid}", access: base.access, handle: s.showNotification},
			route{method: "GET", path: base.prefix + "/counts", access: base.access, handle: s.unreadCounts, cached: true},
			route{method: "POST", path: base.prefix + "/notifications/{nid}/read", access: base.access, handle: s.markRead},
			route{method: "POST", path: base.prefix + "/notifications/{nid}/unread", access: base.access, handle: s.markUnread},
			route{method: "POST", path: base.prefix + "/notifications/{nid}/postpone", access: base.access, handle: s.postpone},
			route{method: "POST", path: base.prefix + "/notifications/read-all", access: base.access, handle: s.markAllRead},
			route{method: "POST", path: base.prefix + "/notifications/{nid}/archive", access: base.access, handle: s.archive},
			route{method: "POST", path: base.prefix + "/notifications/{nid}/unarchive", access: base.access, handle: s.unarchive},
			route{method: "POST", path: base.prefix + "/notifications/{nid}/actions/{n}", access: base.access, handle: s.runAction},
			route{method: "GET", path: base.prefix + "/preferences", access: base.access, handle: s.showPreferences},
			route{method: "PUT", path: base.prefix + "/preferences", access: base.access, handle: s.putPreferences},
		)
	}
	if s.streamer != nil {
		rs = append(rs, route{method: "GET", path: v1 + "/me/stream", access: userSSE, handle: s.stream, stream: true})
	}
	return rs
}
