package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/toml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/cloche/cloche/internal/store"
)

// EnvPrefix starts the environment variables that hold settings.
const EnvPrefix = "CLOCHE_"

// notSettings are CLOCHE_* variables that are not settings: the
// configuration file's name and the test and benchmark switches. Load
// skips them.
var (
	notSettings       = []string{"CLOCHE_CONFIG", "CLOCHE_SCREENSHOTS"}
	notSettingsPrefix = []string{"CLOCHE_TEST_", "CLOCHE_BENCH_"}
)

// SourceError is a wrong setting and where it came from: the file and its
// key, the environment variable, or the command line.
type SourceError struct {
	// Source is e.g. "config file /etc/cloche.toml",
	// "environment variable CLOCHE_HTTP__ADDR" or "command line".
	Source string
	Err    error
}

func (e *SourceError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// layer is the settings one source gives, by dotted key.
type layer struct {
	values map[string]any
	// source names where key came from.
	source func(key string) string
}

// Load reads the TOML file at path (if path is not empty), then the CLOCHE_*
// environment variables (CLOCHE_DATABASE_URL, CLOCHE_SCHEDULER__WORKERS:
// a double underscore steps into a section), then overrides (keys as in the
// file, e.g. "database_url"), over Default, and validates the result.
//
// Every error names its source (*SourceError): the file and key, or the
// variable; an unknown key or variable is named with the nearest known one.
func Load(path string, environ []string, overrides map[string]any) (Config, error) {
	known := settingTypes()
	var layers []layer
	var errs []error
	if path != "" {
		l, err := fileLayer(path, known)
		if err != nil {
			return Config{}, err
		}
		layers = append(layers, l)
	}
	env, envErrs := envLayer(environ, known)
	errs = append(errs, envErrs...)
	layers = append(layers, env)
	layers = append(layers, layer{values: overrides, source: func(string) string { return "command line" }})

	merged := map[string]any{}
	for _, l := range layers {
		for _, key := range sortedKeys(l.values) {
			typ, ok := known[key]
			if !ok {
				if v, isMap := l.values[key].(map[string]any); isMap && len(v) == 0 && isSection(key, known) {
					continue // an empty [section]
				}
				errs = append(errs, &SourceError{Source: l.source(key), Err: unknownKey(key, known)})
				continue
			}
			if err := checkValue(key, typ, l.values[key]); err != nil {
				errs = append(errs, &SourceError{Source: l.source(key), Err: err})
				continue
			}
			merged[key] = l.values[key]
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	cfg := Default()
	if err := decode(merged, &cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, attribute(err, layers)
	}
	return cfg, nil
}

// Environ is os.Environ, named so that callers pass the environment
// explicitly (tests pass their own).
func Environ() []string { return os.Environ() }

func fileLayer(path string, known map[string]reflect.Type) (layer, error) {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), toml.Parser()); err != nil {
		return layer{}, &SourceError{Source: "config file " + path, Err: err}
	}
	// Errors name the key themselves (a field error, or "unknown setting").
	return layer{values: k.All(), source: func(string) string { return "config file " + path }}, nil
}

// IsSettingVariable reports whether the environment variable name is read
// as a setting.
func IsSettingVariable(name string) bool {
	if !strings.HasPrefix(name, EnvPrefix) || slices.Contains(notSettings, name) {
		return false
	}
	for _, p := range notSettingsPrefix {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// envKey is the setting that a variable names: CLOCHE_HTTP__ADDR is http.addr.
func envKey(name string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "__", "."))
}

// envName is the variable that names a setting.
func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "__"))
}

func envLayer(environ []string, known map[string]reflect.Type) (layer, []error) {
	values := map[string]any{}
	names := map[string]string{}
	var errs []error
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !IsSettingVariable(name) {
			continue
		}
		key := envKey(name)
		typ, ok := known[key]
		if !ok {
			err := fmt.Errorf("not a setting")
			if near := nearest(key, known); near != "" {
				err = fmt.Errorf("not a setting (did you mean %s?)", envName(near))
			}
			errs = append(errs, &SourceError{Source: "environment variable " + name, Err: err})
			continue
		}
		names[key] = name
		if typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.String {
			values[key] = splitList(value)
			continue
		}
		values[key] = value
	}
	return layer{values: values, source: func(key string) string {
		return "environment variable " + names[key]
	}}, errs
}

// isSection reports whether key is a section of settings ("http",
// "http.rate_limit").
func isSection(key string, known map[string]reflect.Type) bool {
	for k := range known {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

func unknownKey(key string, known map[string]reflect.Type) error {
	if isSection(key, known) {
		return fmt.Errorf("%q is a section ([%s]), not a setting", key, key)
	}
	if near := nearest(key, known); near != "" {
		return fmt.Errorf("unknown setting %q (did you mean %s?)", key, near)
	}
	return fmt.Errorf("unknown setting %q", key)
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// settingTypes lists every setting by dotted key, with its Go type.
func settingTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(textUnmarshaler) {
				walk(key+".", f.Type)
				continue
			}
			out[key] = f.Type
		}
	}
	walk("", reflect.TypeFor[Config]())
	return out
}

// checkValue decodes v as the setting key of type typ, and says what is
// wrong with it if it does not fit.
func checkValue(key string, typ reflect.Type, v any) error {
	ptr := reflect.New(typ)
	if s, ok := v.(string); ok && ptr.Type().Implements(textUnmarshaler) {
		if err := ptr.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return store.Invalid(key, "%v", err)
		}
		return nil
	}
	dec, err := mapstructure.NewDecoder(decoderConfig(ptr.Interface()))
	if err != nil {
		return err
	}
	if err := dec.Decode(v); err != nil {
		return store.Invalid(key, "must be %s, not %s", kindName(typ), describeValue(v))
	}
	return nil
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(kindName(t.Elem()), "a ")
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

func describeValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case map[string]any:
		return "a section"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}

func decoderConfig(result any) *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.TextUnmarshallerHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
		Result:           result,
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		TagName:          "koanf",
	}
}

func decode(values map[string]any, cfg *Config) error {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(values, "."), nil); err != nil {
		return err
	}
	return k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{Tag: "koanf", DecoderConfig: decoderConfig(cfg)})
}

// attribute wraps each field error of Validate in the source of its
// setting: the last layer that set it. Defaults keep the bare error.
func attribute(err error, layers []layer) error {
	fes := store.FieldErrors(err)
	if len(fes) == 0 {
		return err
	}
	out := make([]error, 0, len(fes))
	for _, fe := range fes {
		var e error = fe
		for i := len(layers) - 1; i >= 0; i-- {
			if _, ok := layers[i].values[fe.Field]; ok {
				e = &SourceError{Source: layers[i].source(fe.Field), Err: fe}
				break
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// nearest is the known key closest to key, if close enough to be a typo.
func nearest(key string, known map[string]reflect.Type) string {
	best, bestD := "", len(key)/2+1
	for _, k := range sortedKeys(known) {
		if d := levenshtein(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
