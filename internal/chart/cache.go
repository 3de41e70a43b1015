package chart

import (
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// CachedCharts is how many drawn charts a Signer's handler keeps: at about
// 25 KB a chart, 6 MB. A digest's recipients all fetch the same few URLs,
// so each instance draws each chart about once; the Cache-Control header
// lets clients and proxies keep it after that.
const CachedCharts = 256

// pngCache keeps drawn charts by their token's MAC, which names the
// payload, and lets concurrent first fetches of one chart share a draw.
type pngCache struct {
	lru   *lru.Cache[string, []byte]
	group singleflight.Group
}

func newPNGCache() *pngCache {
	c, err := lru.New[string, []byte](CachedCharts)
	if err != nil { // only for a size <= 0
		panic(err)
	}
	return &pngCache{lru: c}
}

// get returns the chart kept under key, or draws, keeps and returns it.
// A failed draw is not kept.
func (c *pngCache) get(key string, draw func() ([]byte, error)) ([]byte, error) {
	if png, ok := c.lru.Get(key); ok {
		return png, nil
	}
	v, err, _ := c.group.Do(key, func() (any, error) {
		png, err := draw()
		if err != nil {
			return nil, err
		}
		c.lru.Add(key, png)
		return png, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}
