// go_peer - the Go comparison server for `make bench`: POST /api/livekit/token
// doing the work of bench/fastify_server.mjs with LiveKit's own Go stack:
// net/http, the HS256 session JWT verified with golang-jwt, the caller's
// membership looked up in memory, a LiveKit access token minted with
// go-jose (as LiveKit's Go server SDK does). No audit record is kept.
// Env: ROOMKEY_SESSION_SECRET, LIVEKIT_API_KEY, LIVEKIT_API_SECRET,
// BENCH_SUBJECT. Prints "listening on http://127.0.0.1:PORT" when ready.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt"
	jose "gopkg.in/square/go-jose.v2"
	josejwt "gopkg.in/square/go-jose.v2/jwt"
)

// videoGrant is the LiveKit "video" claim the token carries.
type videoGrant struct {
	RoomJoin       bool   `json:"roomJoin"`
	Room           string `json:"room"`
	CanPublish     bool   `json:"canPublish"`
	CanSubscribe   bool   `json:"canSubscribe"`
	CanPublishData bool   `json:"canPublishData"`
}

// grantClaims are the claims beside the registered ones.
type grantClaims struct {
	Name  string      `json:"name,omitempty"`
	Video *videoGrant `json:"video"`
}

type peer struct {
	sessionKey []byte
	apiKey     string
	signer     jose.Signer
	members    map[string]map[string]string // room -> subject -> role
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *peer) mint(subject, name, room string, ttl time.Duration) (string, error) {
	now := time.Now()
	reg := josejwt.Claims{
		Issuer:    p.apiKey,
		Subject:   subject,
		NotBefore: josejwt.NewNumericDate(now),
		Expiry:    josejwt.NewNumericDate(now.Add(ttl)),
	}
	grants := grantClaims{Name: name, Video: &videoGrant{
		RoomJoin: true, Room: room, CanPublish: true, CanSubscribe: true, CanPublishData: true,
	}}
	return josejwt.Signed(p.signer).Claims(reg).Claims(grants).CompactSerialize()
}

func (p *peer) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, 405, map[string]interface{}{"statusCode": 405, "message": "Method Not Allowed"})
		return
	}
	raw := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	session := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, session, func(*jwt.Token) (interface{}, error) {
		return p.sessionKey, nil
	}, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		writeJSON(w, 401, map[string]interface{}{"statusCode": 401, "message": "Unauthorized", "error": "Unauthorized"})
		return
	}
	var body struct {
		RoomID string `json:"roomId"`
	}
	if json.NewDecoder(http.MaxBytesReader(w, r.Body, 65536)).Decode(&body) != nil || body.RoomID == "" {
		writeJSON(w, 400, map[string]interface{}{"statusCode": 400, "message": []string{"roomId should not be empty"}, "error": "Bad Request"})
		return
	}
	sub, _ := session["sub"].(string)
	name, _ := session["name"].(string)
	if _, ok := p.members[body.RoomID][sub]; !ok {
		writeJSON(w, 403, map[string]interface{}{"statusCode": 403, "message": "Insufficient permissions. Required: JOIN_CHANNEL", "error": "Forbidden"})
		return
	}
	if name == "" {
		name = sub
	}
	ttl := time.Hour
	tok, err := p.mint(sub, name, body.RoomID, ttl)
	if err != nil {
		writeJSON(w, 500, map[string]interface{}{"statusCode": 500, "message": "Internal server error"})
		return
	}
	writeJSON(w, 200, map[string]interface{}{
		"token": tok, "identity": sub, "roomId": body.RoomID, "name": name,
		"expiresAt": time.Now().Add(ttl).UTC().Format("2006-01-02T15:04:05.000Z"),
	})
}

func main() {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(os.Getenv("LIVEKIT_API_SECRET"))},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := &peer{
		sessionKey: []byte(os.Getenv("ROOMKEY_SESSION_SECRET")),
		apiKey:     os.Getenv("LIVEKIT_API_KEY"),
		signer:     signer,
		members:    map[string]map[string]string{"general": {os.Getenv("BENCH_SUBJECT"): "member"}},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/livekit/token", p.token)
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	fmt.Fprintln(os.Stderr, http.Serve(ln, mux))
	os.Exit(1)
}
