package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// in dir, and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cloche test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// wantSecure checks every console cookie resp sets.
func wantSecure(t *testing.T, what string, resp *http.Response, want bool) {
	t.Helper()
	cks := resp.Cookies()
	if len(cks) == 0 {
		t.Fatalf("%s: no cookie set", what)
	}
	for _, ck := range cks {
		if ck.Secure != want {
			t.Errorf("%s: cookie %s Secure = %v, want %v", what, ck.Name, ck.Secure, want)
		}
	}
}

// `cloche serve` serves HTTPS itself with http.tls_cert_file and
// http.tls_key_file: the API and the console answer over TLS, and the
// console's cookies are Secure.
func TestServeTLS(t *testing.T) {
	bin := buildBinary(t)
	url := testdb.SQLiteURL(t)
	run(t, bin, url, "migrate")
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	const password = "a long enough admin password"
	p := startServe(t, bin, url, "127.0.0.1:0", []string{
		"CLOCHE_HTTP__TLS_CERT_FILE=" + certFile, "CLOCHE_HTTP__TLS_KEY_FILE=" + keyFile,
		"CLOCHE_CONSOLE__ADMIN_PASSWORD=" + password,
	})
	t.Cleanup(func() { p.stop(t) })
	base := "https://" + p.addr
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(transport.CloseIdleConnections)

	resp, err := (&http.Client{Transport: transport, Timeout: 30 * time.Second}).Get(base + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET /readyz over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP on the same port gets no answer of the API.
	if resp, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}

	c := newConsoleClient(t, base, transport)
	page, _ := c.do("GET", "/console/login", nil)
	wantSecure(t, "login page", page, true)
	login := c.login(password)
	if login.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d", login.StatusCode)
	}
	wantSecure(t, "login", login, true)
	if resp, body := c.do("GET", "/console/", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard over TLS: %d\n%s", resp.StatusCode, body)
	}
}

// Behind a reverse proxy, X-Forwarded-Proto: https makes the console's
// cookies Secure only when it comes from http.trusted_proxies.
func TestServeTrustedProxy(t *testing.T) {
	bin := buildBinary(t)
	url := testdb.SQLiteURL(t)
	run(t, bin, url, "migrate")
	env := []string{"CLOCHE_CONSOLE__ADMIN_PASSWORD=a long enough admin password"}
	loginPage := func(addr string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+addr+"/console/login", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	untrusted := startServe(t, bin, url, "127.0.0.1:0", append(env, "CLOCHE_HTTP__TRUSTED_PROXIES=10.0.0.0/8"))
	t.Cleanup(func() { untrusted.stop(t) })
	wantSecure(t, "X-Forwarded-Proto from an untrusted peer", loginPage(untrusted.addr), false)
	trusted := startServe(t, bin, url, "127.0.0.1:0", append(env, "CLOCHE_HTTP__TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1"))
	t.Cleanup(func() { trusted.stop(t) })
	wantSecure(t, "X-Forwarded-Proto from a trusted proxy", loginPage(trusted.addr), true)
}

// A TLS key that cannot be read stops `cloche serve` at once, naming the
// setting.
func TestServeTLSUnreadableKey(t *testing.T) {
	bin := buildBinary(t)
	url := testdb.SQLiteURL(t)
	certFile, _, _ := selfSigned(t, t.TempDir())
	cmd := exec.Command(bin, "serve", "--database-url", url)
	cmd.Env = append(os.Environ(), "CLOCHE_HTTP__ADDR=127.0.0.1:0",
		"CLOCHE_HTTP__TLS_CERT_FILE="+certFile, "CLOCHE_HTTP__TLS_KEY_FILE="+filepath.Join(t.TempDir(), "missing.pem"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("cloche serve started with a missing key file:\n%s", out)
	}
	if !strings.Contains(string(out), "http.tls_key_file") || !strings.Contains(string(out), "cannot be read") {
		t.Errorf("the error does not name http.tls_key_file:\n%s", out)
	}
}
