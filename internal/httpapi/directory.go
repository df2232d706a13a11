package httpapi

import (
	"net/http"
	"strings"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
)

// listUsers: GET /api/v1/users?group=&company_id=&cursor=&limit=
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := queryOf(r)
	return s.writeUsers(w, r, cloche.UserFilter{Group: q.Get("group"), CompanyID: q.Get("company_id")})
}

func (s *Server) writeUsers(w http.ResponseWriter, r *http.Request, f cloche.UserFilter) error {
	var err error
	if f.Limit, err = queryLimit(r, 100, 1000); err != nil {
		return err
	}
	f.After = queryOf(r).Get("cursor")
	p, err := s.svc.Users(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(p.Items, p.Next))
	return nil
}

// showUser: GET /api/v1/users/{id}
func (s *Server) showUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// putUser: PUT /api/v1/users/{id} creates or replaces a user, with the
// fields of the import file (groups, companies and follower included).
func (s *Server) putUser(w http.ResponseWriter, r *http.Request) error {
	var in cloche.UserInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	if err := bodyIDMatchesPath(r, &in.ID); err != nil {
		return err
	}
	u, err := s.svc.UpsertUser(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// deleteUser: DELETE /api/v1/users/{id}
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listGroups: GET /api/v1/groups
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.svc.Groups(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(gs, ""))
	return nil
}

// groupMembers: GET /api/v1/groups/{name}/members?cursor=&limit=
func (s *Server) groupMembers(w http.ResponseWriter, r *http.Request) error {
	return s.writeUsers(w, r, cloche.UserFilter{Group: r.PathValue("name")})
}

// membersRequest is the body of PUT /api/v1/groups/{name}/members.
type membersRequest struct {
	UserIDs []cloche.ID `json:"user_ids"`
}

// putGroupMembers: PUT /api/v1/groups/{name}/members makes exactly the
// given users the group's members.
func (s *Server) putGroupMembers(w http.ResponseWriter, r *http.Request) error {
	var req membersRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.UserIDs == nil {
		return requiredField("user_ids", "is required (an empty list empties the group)")
	}
	ids := make([]string, len(req.UserIDs))
	for i, id := range req.UserIDs {
		ids[i] = string(id)
	}
	name := r.PathValue("name")
	if err := s.svc.SetGroupMembers(r.Context(), name, ids); err != nil {
		return err
	}
	return s.groupMembers(w, r)
}

// deleteGroup: DELETE /api/v1/groups/{name} takes every member out.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	n, err := s.svc.DeleteGroup(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Removed int `json:"removed"`
	}{n})
	return nil
}

// showCompany: GET /api/v1/companies/{id}
func (s *Server) showCompany(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Company(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// putCompany: PUT /api/v1/companies/{id}
func (s *Server) putCompany(w http.ResponseWriter, r *http.Request) error {
	var in cloche.CompanyInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	if err := bodyIDMatchesPath(r, &in.ID); err != nil {
		return err
	}
	c, err := s.svc.UpsertCompany(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// deleteCompany: DELETE /api/v1/companies/{id}
func (s *Server) deleteCompany(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteCompany(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importDirectory: POST /api/v1/directory/import, the command line's
// import file, written in one transaction.
func (s *Server) importDirectory(w http.ResponseWriter, r *http.Request) error {
	var f cloche.DirectoryFile
	if err := decodeJSON(r, &f, false); err != nil {
		return err
	}
	stats, err := s.svc.Import(r.Context(), &f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats)
	return nil
}

// syncDirectory: PUT /api/v1/directory, the whole directory: Cloche comes
// to exactly it, in one transaction, and says what changed.
func (s *Server) syncDirectory(w http.ResponseWriter, r *http.Request) error {
	var snap cloche.DirectorySnapshot
	if err := decodeJSON(r, &snap, false); err != nil {
		return err
	}
	stats, err := s.svc.SyncDirectory(r.Context(), &snap)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stats)
	return nil
}

// bodyIDMatchesPath fills an id left out of a PUT body from the path, and
// refuses one that names another row.
func bodyIDMatchesPath(r *http.Request, id *cloche.ID) error {
	want := r.PathValue("id")
	if *id == "" {
		*id = cloche.ID(want)
	} else if strings.TrimSpace(string(*id)) != want {
		return store.Invalid("id", "%q does not match the path's id %q", *id, want)
	}
	return nil
}
