// sarama_probe - produces and/or consumes keyed messages with Sarama 1.22
// (Debian's golang-github-shopify-sarama-dev), for Samsa's legacy-format
// integration tests. With the default config Sarama speaks Kafka 0.8.2:
// Produce v0 / Fetch v0 / ListOffsets v0 / Metadata v0 with magic-0 message
// sets; -version selects another config.Version.
//
// Output, one line per message, compared exactly by the Python test:
//   produce: "P\t<offset>\t<key>"
//   consume: "C\t<offset>\t<key>\t<value>"   (null key/value printed as <null>)
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sarama_probe: "+format+"\n", args...)
	os.Exit(1)
}

func show(b []byte) string {
	if b == nil {
		return "<null>"
	}
	return string(b)
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma separated")
	topic := flag.String("topic", "", "topic")
	partition := flag.Int("partition", 0, "partition")
	mode := flag.String("mode", "both", "produce, consume or both")
	n := flag.Int("n", 10, "messages to produce / expect")
	prefix := flag.String("prefix", "m", "key/value prefix")
	codec := flag.String("codec", "none", "none, gzip, snappy, lz4, zstd")
	version := flag.String("version", "default", "Kafka version for config.Version, or default (0.8.2.0)")
	valueSize := flag.Int("value-size", 0, "pad values to at least this many bytes")
	timeout := flag.Duration("timeout", 30*time.Second, "consume timeout")
	flag.Parse()
	if *topic == "" {
		fail("-topic is required")
	}

	cfg := sarama.NewConfig()
	cfg.ClientID = "sarama-probe"
	if *version != "default" {
		v, err := sarama.ParseKafkaVersion(*version)
		if err != nil {
			fail("bad -version: %v", err)
		}
		cfg.Version = v
	}
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Flush.Messages = *n // one produce request for the whole set
	cfg.Producer.Flush.Frequency = 50 * time.Millisecond
	cfg.Consumer.Return.Errors = true
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	switch *codec {
	case "none":
	case "gzip":
		cfg.Producer.Compression = sarama.CompressionGZIP
	case "snappy":
		cfg.Producer.Compression = sarama.CompressionSnappy
	case "lz4":
		cfg.Producer.Compression = sarama.CompressionLZ4
	case "zstd":
		cfg.Producer.Compression = sarama.CompressionZSTD
	default:
		fail("unknown codec %s", *codec)
	}
	addrs := strings.Split(*brokers, ",")
	pad := func(s string) string {
		if len(s) < *valueSize {
			s += strings.Repeat("x", *valueSize-len(s))
		}
		return s
	}

	if *mode == "produce" || *mode == "both" {
		// An async producer sends everything queued as one batch, which is
		// what a compressed legacy wrapper needs to be interesting.
		p, err := sarama.NewAsyncProducer(addrs, cfg)
		if err != nil {
			fail("producer: %v", err)
		}
		for i := 0; i < *n; i++ {
			p.Input() <- &sarama.ProducerMessage{
				Topic:     *topic,
				Partition: int32(*partition),
				Key:       sarama.StringEncoder(fmt.Sprintf("%s-key-%d", *prefix, i)),
				Value:     sarama.StringEncoder(pad(fmt.Sprintf("%s-value-%d-%s", *prefix, i, *codec))),
				Metadata:  i,
			}
		}
		offsets := make([]int64, *n)
		for got := 0; got < *n; got++ {
			select {
			case m := <-p.Successes():
				offsets[m.Metadata.(int)] = m.Offset
			case e := <-p.Errors():
				fail("produce: %v", e.Err)
			case <-time.After(*timeout):
				fail("produce: timed out after %d acks", got)
			}
		}
		p.Close()
		for i, o := range offsets {
			fmt.Printf("P\t%d\t%s-key-%d\n", o, *prefix, i)
		}
	}

	if *mode == "consume" || *mode == "both" {
		c, err := sarama.NewConsumer(addrs, cfg)
		if err != nil {
			fail("consumer: %v", err)
		}
		pc, err := c.ConsumePartition(*topic, int32(*partition), sarama.OffsetOldest)
		if err != nil {
			fail("consume partition: %v", err)
		}
		deadline := time.After(*timeout)
		for got := 0; got < *n; {
			select {
			case m := <-pc.Messages():
				fmt.Printf("C\t%d\t%s\t%s\n", m.Offset, show(m.Key), show(m.Value))
				got++
			case e := <-pc.Errors():
				fail("consume: %v", e.Err)
			case <-deadline:
				fail("consume: timed out after %d messages", got)
			}
		}
		pc.Close()
		c.Close()
	}
}
