package rego

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pingauthz/pingauthz/sso"
)

// DecodeInput reads one JSON policy input, in the layout of sso.Input. Unknown
// fields (outside identity.claims), a value of the wrong type and data after
// the object are errors; numbers in claims stay exact (json.Number).
func DecodeInput(r io.Reader) (*sso.Input, error) {
	var in sso.Input
	if err := decodeStrict(r, &in); err != nil {
		return nil, fmt.Errorf("rego: input: %w", err)
	}
	return &in, nil
}

// DecodeDirectory reads one JSON directory, in the layout of sso.Directory, as
// strictly as DecodeInput. It does not validate the entries; SetDirectory
// does.
func DecodeDirectory(r io.Reader) (*sso.Directory, error) {
	var dir sso.Directory
	if err := decodeStrict(r, &dir); err != nil {
		return nil, fmt.Errorf("rego: directory: %w", err)
	}
	return &dir, nil
}

func decodeStrict(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}
