package wecom

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// Crypto is WeCom's message crypto (WXBizMsgCrypt) for one callback: the
// sorted-SHA1 signature over the token, timestamp, nonce and ciphertext,
// and AES-256-CBC over rand16 ‖ uint32 length ‖ message ‖ receive id.
//
// The signature and the encryption are silenceper/wechat's (util). The
// decryption is ours: the SDK's DecryptMsg refuses a message whose receive
// id is empty, which is every smart robot's, and checks only the last
// padding byte, where a callback must be refused unless all are right.
type Crypto struct {
	token     string
	aesKey    string // the EncodingAESKey, as the SDK takes it
	key       []byte
	receiveID string
}

// ErrCrypto is what a callback that fails its signature, its decryption or
// its receive id check wraps.
var ErrCrypto = errors.New("message crypto")

// blockSize is the PKCS#7 block WeCom pads to: 32 bytes, not AES's 16.
const blockSize = 32

// NewCrypto returns the crypto of a callback with its token and the
// 43-character EncodingAESKey. receiveID is the corp id for an app's
// callback and "" for a smart robot's.
func NewCrypto(token, encodingAESKey, receiveID string) (*Crypto, error) {
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 || token == "" {
		return nil, fmt.Errorf("%w: the token is empty or the EncodingAESKey is not 43 base64 characters", ErrCrypto)
	}
	return &Crypto{token: token, aesKey: encodingAESKey, key: key, receiveID: receiveID}, nil
}

// Signature is sha1_hex of the token, timestamp, nonce and ciphertext,
// sorted and joined.
func (c *Crypto) Signature(timestamp, nonce, encrypted string) string {
	return util.Signature(c.token, timestamp, nonce, encrypted)
}

// Verify reports whether signature signs the ciphertext, in constant time.
func (c *Crypto) Verify(signature, timestamp, nonce, encrypted string) bool {
	want := c.Signature(timestamp, nonce, encrypted)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(signature)), []byte(want)) == 1
}

// Encrypt encrypts msg with 16 random bytes in front; random nil draws
// them (tests pass fixed ones to reproduce a vector).
func (c *Crypto) Encrypt(random, msg []byte) (string, error) {
	if random == nil {
		random = make([]byte, 16)
		_, _ = rand.Read(random)
	}
	if len(random) != 16 {
		return "", fmt.Errorf("%w: the random prefix is %d bytes, not 16", ErrCrypto, len(random))
	}
	out, err := util.EncryptMsg(random, msg, c.receiveID, c.aesKey)
	if err != nil {
		return "", fmt.Errorf("%w: encrypt: %v", ErrCrypto, err)
	}
	return string(out), nil
}

// Decrypt decrypts a ciphertext and returns the message, after checking
// the padding, the length and the receive id.
func (c *Crypto) Decrypt(encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrCrypto)
	}
	if len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes is not whole blocks", ErrCrypto, len(raw))
	}
	block, _ := aes.NewCipher(c.key)
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(block, c.key[:16]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) {
		return nil, fmt.Errorf("%w: bad padding", ErrCrypto)
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("%w: bad padding", ErrCrypto)
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, fmt.Errorf("%w: plaintext too short", ErrCrypto)
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, fmt.Errorf("%w: message length %d beyond the plaintext", ErrCrypto, n)
	}
	msg, rid := plain[20:20+n], plain[20+n:]
	if subtle.ConstantTimeCompare(rid, []byte(c.receiveID)) != 1 {
		return nil, fmt.Errorf("%w: the message is for another receiver", ErrCrypto)
	}
	return msg, nil
}
