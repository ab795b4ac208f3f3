// Package host is the library a server embeds to log users in with Ping
// Identity through the pingauthz plugin: Start launches and supervises the
// plugin binary (restarting it when it dies and pushing the policy
// directory again), and NewHandler serves /login/ping, /callback_ping,
// /api/me, /logout and a small home page on top of a Directory the server
// implements. It does not store users itself, serve TLS, or rate-limit.
package host
