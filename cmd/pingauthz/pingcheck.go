package main

// pingCheckCallbackPath is the path of ping check's default redirect URI.
const pingCheckCallbackPath = "/oidc/callback"
