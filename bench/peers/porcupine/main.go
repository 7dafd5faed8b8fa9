// Command porcupine-check runs Porcupine (github.com/anishathalye/porcupine) on history
// files in the formats of Porcupine's own corpus, so that gtcheck's `check` can be timed
// beside the peer it is measured against, each as a whole process (start, read, check,
// print). It is gtcheck's code, written from the formats described in
// ../shared/peer-histories/porcupine/README.md, not Porcupine's test file: Porcupine
// itself is built from a local copy (see README.md here) and never enters the repository.
//
//	porcupine-check -format etcd|kv [-timeout 0s] FILE...
//
// Formats and models, as the corpus defines them:
//   - etcd (Jepsen's etcd logs, `INFO jepsen.util - P :type :f value`): one register
//     that starts empty (nil), with read / write / cas. `:fail :cas` is a compare that did
//     not match; `:fail :read :timed-out` is a read whose result is unknown (it
//     constrains nothing); `:info` completions (crashed operations) stay open until the
//     end of the history, where their return is unknown (any state, unchanged or
//     changed by the operation). Every other line is ignored.
//   - kv (one EDN map a line, `{:process P, :type :T, :f :get|:put|:append, :key "K",
//     :value "V"|nil}`): a map of string registers that start as "", partitioned by
//     key (each key checked on its own, as Porcupine's partition functions allow).
//
// Logs carry no timestamps: line order is real-time order, so histories are handed to
// porcupine.CheckEvents as call and return events in file order.
//
// For each file it prints one line, `<verdict>\t<read s>\t<check s>\t<events>\t<file>`,
// verdict Ok / Illegal / Unknown, and a last line with the totals. Exit status: 0 all
// Ok, 1 some file Illegal, 2 some file Unknown (none Illegal), 3 bad input (one line
// `porcupine-check: error: ...` on stderr), as gtcheck's own `check` command.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// --- etcd: one register with read / write / cas --------------------------------------

// nilValue stands for the empty register (a nil read); no logged value is this.
const nilValue = int64(-1) << 62

type etcdInput struct {
	op         string // "read", "write", "cas"
	arg1, arg2 int64  // write: arg1; cas: arg1 expected, arg2 new
}

type etcdOutput struct {
	ok      bool  // cas: the compare matched
	value   int64 // read: the value read (nilValue when empty)
	unknown bool  // crashed (:info), or a read that timed out: constrains nothing
}

var etcdModel = porcupine.Model{
	Init: func() interface{} { return nilValue },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st, in, out := state.(int64), input.(etcdInput), output.(etcdOutput)
		switch in.op {
		case "read":
			return out.unknown || out.value == st, st
		case "write":
			return true, in.arg1
		default: // cas
			matched := in.arg1 == st
			if out.unknown {
				if matched {
					return true, in.arg2
				}
				return true, st
			}
			if matched != out.ok {
				return false, st
			}
			if matched {
				return true, in.arg2
			}
			return true, st
		}
	},
}

func etcdNumber(s string) (int64, error) {
	if s == "nil" {
		return nilValue, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseEtcd reads a Jepsen etcd log into events in line order.
func parseEtcd(data []byte, source string) ([]porcupine.Event, error) {
	var events []porcupine.Event
	pending := map[int]int{}      // process -> id of its open call
	inputs := map[int]etcdInput{} // id -> its call's input
	var crashed []int             // ids whose completion was :info, in order
	id := 0
	for lineno, line := range bytes.Split(data, []byte("\n")) {
		text := string(line)
		at := strings.Index(text, "jepsen.util - ")
		if !strings.HasPrefix(strings.TrimSpace(text), "INFO") || at < 0 {
			continue
		}
		fields := strings.Fields(text[at+len("jepsen.util - "):])
		if len(fields) < 4 {
			continue
		}
		process, err := strconv.Atoi(fields[0])
		if err != nil {
			continue
		}
		typ, f := fields[1], fields[2]
		value := strings.Join(fields[3:], " ")
		where := fmt.Sprintf("%s:%d", source, lineno+1)
		switch typ {
		case ":invoke":
			in := etcdInput{op: strings.TrimPrefix(f, ":")}
			switch f {
			case ":read":
			case ":write":
				if in.arg1, err = strconv.ParseInt(value, 10, 64); err != nil {
					return nil, fmt.Errorf("%s: a write needs an integer value", where)
				}
			case ":cas":
				if in.arg1, in.arg2, err = casPair(value); err != nil {
					return nil, fmt.Errorf("%s: %v", where, err)
				}
			default:
				continue
			}
			if _, open := pending[process]; open {
				return nil, fmt.Errorf("%s: process %d invoked twice", where, process)
			}
			pending[process] = id
			inputs[id] = in
			events = append(events, porcupine.Event{ClientId: process, Kind: porcupine.CallEvent, Value: in, Id: id})
			id++
		case ":ok", ":fail", ":info":
			call, open := pending[process]
			if !open {
				return nil, fmt.Errorf("%s: a completion of process %d without an invocation", where, process)
			}
			delete(pending, process)
			if typ == ":info" {
				crashed = append(crashed, call)
				continue
			}
			out := etcdOutput{}
			switch {
			case value == ":timed-out" && inputs[call].op == "read":
				out.unknown = true
			case inputs[call].op == "read":
				if out.value, err = etcdNumber(value); err != nil {
					return nil, fmt.Errorf("%s: a read returns nil or an integer", where)
				}
			case inputs[call].op == "cas":
				out.ok = typ == ":ok"
			case typ == ":fail":
				return nil, fmt.Errorf("%s: Porcupine's etcd logs have no failed writes", where)
			}
			events = append(events, porcupine.Event{ClientId: process, Kind: porcupine.ReturnEvent, Value: out, Id: call})
		}
	}
	// crashed operations, and invocations never completed, return at the end, unknown
	for _, call := range pending {
		crashed = append(crashed, call)
	}
	for _, call := range sortedInts(crashed) {
		events = append(events, porcupine.Event{Kind: porcupine.ReturnEvent, Value: etcdOutput{unknown: true}, Id: call})
	}
	return events, nil
}

func casPair(value string) (int64, int64, error) {
	inner := strings.Fields(strings.Trim(value, "[]"))
	if !strings.HasPrefix(value, "[") || !strings.HasSuffix(value, "]") || len(inner) != 2 {
		return 0, 0, errors.New("a cas needs [old new]")
	}
	a, err1 := strconv.ParseInt(inner[0], 10, 64)
	b, err2 := strconv.ParseInt(inner[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("a cas needs [old new]")
	}
	return a, b, nil
}

func sortedInts(xs []int) []int {
	// insertion sort: the crashed calls are few and nearly in order already
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
	return xs
}

// --- kv: string registers per key, get / put / append ---------------------------------

type kvInput struct {
	op    string // "get", "put", "append"
	key   string
	value string
}

type kvOutput struct {
	value string
}

var kvModel = porcupine.Model{
	PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
		byKey := map[string][]porcupine.Event{}
		keyOf := map[int]string{}
		var order []string
		for _, e := range history {
			var key string
			if e.Kind == porcupine.CallEvent {
				key = e.Value.(kvInput).key
				keyOf[e.Id] = key
			} else {
				key = keyOf[e.Id]
			}
			if _, seen := byKey[key]; !seen {
				order = append(order, key)
			}
			byKey[key] = append(byKey[key], e)
		}
		parts := make([][]porcupine.Event, 0, len(order))
		for _, k := range order {
			parts = append(parts, byKey[k])
		}
		return parts
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st, in, out := state.(string), input.(kvInput), output.(kvOutput)
		switch in.op {
		case "get":
			return out.value == st, st
		case "put":
			return true, in.value
		default: // append
			return true, st + in.value
		}
	},
}

// kvField returns the text after `name ` up to the next ", " or the closing brace,
// reading a quoted string whole.
func kvField(line, name string) (string, bool) {
	at := strings.Index(line, name+" ")
	if at < 0 {
		return "", false
	}
	rest := line[at+len(name)+1:]
	if strings.HasPrefix(rest, "\"") {
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(rest) {
			return "", false
		}
		return rest[:end+1], true
	}
	end := strings.IndexAny(rest, ",}")
	if end < 0 {
		return "", false
	}
	return strings.TrimSpace(rest[:end]), true
}

func kvString(raw string) (string, bool) {
	if !strings.ContainsRune(raw, '\\') {
		return raw[1 : len(raw)-1], true
	}
	s, err := strconv.Unquote(raw)
	return s, err == nil
}

// parseKv reads a kv log into events in line order.
func parseKv(data []byte, source string) ([]porcupine.Event, error) {
	var events []porcupine.Event
	pending := map[int]int{}
	inputs := map[int]kvInput{}
	id := 0
	for lineno, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" {
			continue
		}
		where := fmt.Sprintf("%s:%d", source, lineno+1)
		p, ok1 := kvField(text, ":process")
		typ, ok2 := kvField(text, ":type")
		f, ok3 := kvField(text, ":f")
		key, ok4 := kvField(text, ":key")
		value, ok5 := kvField(text, ":value")
		if !(ok1 && ok2 && ok3 && ok4 && ok5) || !strings.HasPrefix(text, "{") {
			return nil, fmt.Errorf("%s: not an operation map", where)
		}
		process, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%s: :process must be an integer", where)
		}
		k, ok := kvString(key)
		if !ok || !strings.HasPrefix(key, "\"") {
			return nil, fmt.Errorf("%s: a kv :key must be a string", where)
		}
		v := ""
		if value != "nil" {
			if v, ok = kvString(value); !ok || !strings.HasPrefix(value, "\"") {
				return nil, fmt.Errorf("%s: a kv :value must be a string or nil", where)
			}
		}
		switch typ {
		case ":invoke":
			if f != ":get" && f != ":put" && f != ":append" {
				return nil, fmt.Errorf("%s: kv :f must be get, put or append", where)
			}
			if _, open := pending[process]; open {
				return nil, fmt.Errorf("%s: process %d invoked twice", where, process)
			}
			in := kvInput{op: f[1:], key: k, value: v}
			pending[process] = id
			inputs[id] = in
			events = append(events, porcupine.Event{ClientId: process, Kind: porcupine.CallEvent, Value: in, Id: id})
			id++
		case ":ok":
			call, open := pending[process]
			if !open {
				return nil, fmt.Errorf("%s: a completion of process %d without an invocation", where, process)
			}
			delete(pending, process)
			events = append(events, porcupine.Event{ClientId: process, Kind: porcupine.ReturnEvent, Value: kvOutput{v}, Id: call})
		default:
			return nil, fmt.Errorf("%s: the kv corpus completes every operation :ok, not %s", where, typ)
		}
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("%s: %d operations never completed", source, len(pending))
	}
	return events, nil
}

// --- the command ------------------------------------------------------------------------

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "porcupine-check: error: "+format+"\n", args...)
	os.Exit(3)
}

func main() {
	format := flag.String("format", "", "etcd or kv")
	timeout := flag.Duration("timeout", 0, "give up after this long per file (0: never), verdict Unknown")
	flag.Parse()
	var parse func([]byte, string) ([]porcupine.Event, error)
	var model porcupine.Model
	switch *format {
	case "etcd":
		parse, model = parseEtcd, etcdModel
	case "kv":
		parse, model = parseKv, kvModel
	default:
		fail("-format must be etcd or kv, got %q", *format)
	}
	if flag.NArg() == 0 {
		fail("no history file given")
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	status := 0
	var readTotal, checkTotal time.Duration
	for _, path := range flag.Args() {
		t0 := time.Now()
		data, err := os.ReadFile(path)
		if err != nil {
			fail("%s: cannot read (%v)", path, err)
		}
		events, err := parse(data, path)
		if err != nil {
			fail("%v", err)
		}
		t1 := time.Now()
		result := porcupine.CheckEventsTimeout(model, events, *timeout)
		t2 := time.Now()
		readTotal += t1.Sub(t0)
		checkTotal += t2.Sub(t1)
		fmt.Fprintf(out, "%s\t%.6f\t%.6f\t%d\t%s\n", result, t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), len(events), path)
		switch {
		case result == porcupine.Illegal:
			status = 1
		case result == porcupine.Unknown && status == 0:
			status = 2
		}
	}
	fmt.Fprintf(out, "total\t%.6f\t%.6f\t%d files\n", readTotal.Seconds(), checkTotal.Seconds(), flag.NArg())
	out.Flush()
	os.Exit(status)
}
