package dingtalk

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
)

// crypter is the crypto of DingTalk's HTTP event subscription, the
// algorithm of its DingCallbackCrypto (the same as WeCom's WXBizMsgCrypt):
// SHA-1 of the sorted token, timestamp, nonce and ciphertext signs;
// AES-256-CBC with IV = key[:16] and PKCS#7 padding to 32-byte blocks
// encrypts rand16 ‖ uint32_be(len) ‖ message ‖ the app key.
type crypter struct {
	token    string
	key      []byte
	receiver string
}

// newCrypter reads the subscription's 43-character aes_key.
func newCrypter(token, aesKey, receiver string) (*crypter, error) {
	key, err := base64.StdEncoding.DecodeString(aesKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("aes_key is not the 43-character key the console shows")
	}
	return &crypter{token: token, key: key, receiver: receiver}, nil
}

// signature signs a ciphertext at a timestamp and nonce.
func (c *crypter) signature(timestamp, nonce, encrypted string) string {
	parts := []string{c.token, timestamp, nonce, encrypted}
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

const cryptBlock = 32

// decrypt opens a ciphertext and checks its padding and receiver.
func (c *crypter) decrypt(encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, refuse("ciphertext is not base64 of whole AES blocks")
	}
	block, _ := aes.NewCipher(c.key) // a 32-byte key always makes a cipher
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, c.key[:aes.BlockSize]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > cryptBlock || pad > len(plain) || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, refuse("bad padding")
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, refuse("plaintext too short")
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, refuse("bad message length")
	}
	msg, receiver := plain[20:20+n], plain[20+n:]
	if string(receiver) != c.receiver {
		return nil, refuse("message for another app")
	}
	return msg, nil
}

// encrypt seals msg with random as its first 16 bytes (fresh randomness
// when nil).
func (c *crypter) encrypt(random, msg []byte) string {
	if random == nil {
		random = make([]byte, 16)
		_, _ = rand.Read(random)
	}
	var buf bytes.Buffer
	buf.Write(random[:16])
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(msg)))
	buf.Write(msg)
	buf.WriteString(c.receiver)
	pad := cryptBlock - buf.Len()%cryptBlock
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, _ := aes.NewCipher(c.key)
	out := buf.Bytes()
	cipher.NewCBCEncrypter(block, c.key[:aes.BlockSize]).CryptBlocks(out, out)
	return base64.StdEncoding.EncodeToString(out)
}
