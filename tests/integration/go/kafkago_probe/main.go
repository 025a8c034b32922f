// kafkago_probe - produces and/or consumes keyed messages with kafka-go
// 0.2.1 (Debian's golang-github-segmentio-kafka-go-dev), the oldest protocol
// user Samsa serves: Produce v2 / Fetch v2 with magic-1 message sets, and it
// cannot read record batches (magic 2) at all.
//
// Output, one line per message, compared exactly by the Python test:
//   produce: "P\t<key>"                      (kafka-go does not report offsets)
//   consume: "C\t<offset>\t<key>\t<value>"   (null key/value printed as <null>)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kafkago_probe: "+format+"\n", args...)
	os.Exit(1)
}

func show(b []byte) string {
	if b == nil {
		return "<null>"
	}
	return string(b)
}

func main() {
	broker := flag.String("broker", "127.0.0.1:9092", "broker address")
	topic := flag.String("topic", "", "topic")
	partition := flag.Int("partition", 0, "partition")
	mode := flag.String("mode", "both", "produce, consume or both")
	n := flag.Int("n", 10, "messages to produce / expect")
	prefix := flag.String("prefix", "m", "key/value prefix")
	codecName := flag.String("codec", "none", "none, gzip, snappy, lz4")
	maxBytes := flag.Int("max-bytes", 1<<20, "fetch max bytes")
	timeout := flag.Duration("timeout", 30*time.Second, "overall timeout")
	flag.Parse()
	if *topic == "" {
		fail("-topic is required")
	}

	var codec kafka.CompressionCodec
	switch *codecName {
	case "none":
	case "gzip":
		codec = gzip.NewCompressionCodec()
	case "snappy":
		codec = snappy.NewCompressionCodec()
	case "lz4":
		codec = lz4.NewCompressionCodec()
	default:
		fail("unknown codec %s", *codecName)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var conn *kafka.Conn
	var err error
	for try := 0; ; try++ {
		conn, err = kafka.DialLeader(ctx, "tcp", *broker, *topic, *partition)
		if err == nil || try > 20 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		fail("dial leader: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(*timeout))

	if *mode == "produce" || *mode == "both" {
		msgs := make([]kafka.Message, *n)
		for i := range msgs {
			msgs[i] = kafka.Message{
				Key:   []byte(fmt.Sprintf("%s-key-%d", *prefix, i)),
				Value: []byte(fmt.Sprintf("%s-value-%d-%s", *prefix, i, *codecName)),
			}
		}
		if _, err := conn.WriteCompressedMessages(codec, msgs...); err != nil {
			fail("produce: %v", err)
		}
		for i := range msgs {
			fmt.Printf("P\t%s\n", msgs[i].Key)
		}
	}

	if *mode == "consume" || *mode == "both" {
		if _, err := conn.Seek(0, kafka.SeekStart); err != nil {
			fail("seek: %v", err)
		}
		got := 0
		for got < *n {
			batch := conn.ReadBatch(1, *maxBytes)
			for got < *n {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				fmt.Printf("C\t%d\t%s\t%s\n", m.Offset, show(m.Key), show(m.Value))
				got++
			}
			if err := batch.Close(); err != nil && !strings.Contains(err.Error(), "EOF") {
				fail("fetch: %v", err)
			}
			if ctx.Err() != nil {
				fail("consume: timed out after %d messages", got)
			}
		}
	}
}
