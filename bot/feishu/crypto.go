package feishu

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
)

// errCipher is any failure to decrypt: its cause is not told, so a
// forger learns nothing from the answer.
var errCipher = errors.New("feishu: the encrypted body does not decrypt")

// Decrypt opens a callback's "encrypt" field: base64 of a 16-byte IV and
// AES-256-CBC ciphertext, keyed by SHA-256 of the encrypt key, padded
// with PKCS#7. The padding is checked byte by byte (the SDK's decrypt
// only trims to the outermost braces).
func Decrypt(encrypted, encryptKey string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) < 2*aes.BlockSize || len(raw)%aes.BlockSize != 0 {
		return nil, errCipher
	}
	key := sha256.Sum256([]byte(encryptKey))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, errCipher
	}
	iv, data := raw[:aes.BlockSize], raw[aes.BlockSize:]
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	n := int(plain[len(plain)-1])
	if n == 0 || n > aes.BlockSize {
		return nil, errCipher
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, errCipher
		}
	}
	return plain[:len(plain)-n], nil
}

// Encrypt is Decrypt's inverse with the given IV, for the fake platform
// and the tests.
func Encrypt(plain []byte, encryptKey string, iv [aes.BlockSize]byte) string {
	key := sha256.Sum256([]byte(encryptKey))
	block, _ := aes.NewCipher(key[:]) // a 32-byte key always makes a cipher
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(append([]byte{}, plain...), make([]byte, n)...)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	out := make([]byte, aes.BlockSize+len(padded))
	copy(out, iv[:])
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(out[aes.BlockSize:], padded)
	return base64.StdEncoding.EncodeToString(out)
}

// Signature is the X-Lark-Signature of a callback: hex SHA-256 of the
// timestamp, nonce, encrypt key and raw body, concatenated.
func Signature(timestamp, nonce, encryptKey string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(timestamp + nonce + encryptKey))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// RobotSign is a custom group bot's sign for a timestamp in seconds:
// base64 of HMAC-SHA256 keyed by timestamp, newline and secret, over
// nothing.
func RobotSign(timestamp int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
