package cli

// migrateCmd applies the migrations, which Open does.
type migrateCmd struct{}

func (c *migrateCmd) Run(rt *runtime) error {
	svc, err := rt.open()
	if err != nil {
		return err
	}
	backend := svc.Backend()
	if err := svc.Close(); err != nil {
		return err
	}
	if rt.globals.JSON {
		return rt.printJSON(struct {
			Backend  string `json:"backend"`
			Migrated bool   `json:"migrated"`
		}{backend, true})
	}
	rt.printf("migrations applied (%s)", backend)
	return nil
}
