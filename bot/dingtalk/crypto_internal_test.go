package dingtalk

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

type cryptoVectors struct {
	Token    string `json:"token"`
	AESKey   string `json:"aes_key"`
	Receiver string `json:"receiver"`
	Vectors  []struct {
		Timestamp, Nonce, Encrypt, Signature, Plain, Random string
	} `json:"vectors"`
}

func loadCryptoVectors(t testing.TB) cryptoVectors {
	raw, err := os.ReadFile("testdata/crypto_vectors.json")
	require.NoError(t, err)
	var v cryptoVectors
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func TestCryptoVectors(t *testing.T) {
	t.Parallel()
	v := loadCryptoVectors(t)
	c, err := newCrypter(v.Token, v.AESKey, v.Receiver)
	require.NoError(t, err)
	for _, x := range v.Vectors {
		require.Equal(t, x.Signature, c.signature(x.Timestamp, x.Nonce, x.Encrypt))
		plain, err := c.decrypt(x.Encrypt)
		require.NoError(t, err)
		require.Equal(t, x.Plain, string(plain))
		if x.Random != "" {
			require.Equal(t, x.Encrypt, c.encrypt([]byte(x.Random), []byte(x.Plain)))
		}
	}
	other, err := newCrypter(v.Token, v.AESKey, "dingotherapp")
	require.NoError(t, err)
	_, err = other.decrypt(v.Vectors[0].Encrypt)
	require.ErrorContains(t, err, "another app")
	_, err = c.decrypt("AAAA" + v.Vectors[0].Encrypt[4:])
	require.Error(t, err, "a changed ciphertext does not open")
	_, err = newCrypter(v.Token, "short", v.Receiver)
	require.Error(t, err)
}

func FuzzDecrypt(f *testing.F) {
	v := loadCryptoVectors(f)
	for _, x := range v.Vectors {
		f.Add(x.Encrypt)
	}
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==")
	c, err := newCrypter(v.Token, v.AESKey, v.Receiver)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, enc string) {
		plain, err := c.decrypt(enc)
		if err == nil {
			// Whatever opens seals back to something that opens the same.
			again, err := c.decrypt(c.encrypt(nil, plain))
			require.NoError(t, err)
			require.Equal(t, plain, again)
		}
	})
}
