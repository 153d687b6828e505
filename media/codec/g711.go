package codec

// The encoders and decoders below follow the ITU-T G.711 reference code
// (g711.c by Sun Microsystems, distributed with G.191) operation for
// operation, so that every byte matches what other PBXes and phones produce.

const (
	signBit   = 0x80
	quantMask = 0x0f
	segShift  = 4
	segMask   = 0x70
	ulawBias  = 0x84
	ulawClip  = 8159 // largest magnitude µ-law represents, in 14-bit units
)

var (
	segUEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	segAEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

// segment returns the index of the first end in table that val does not
// exceed, 8 when it exceeds them all.
func segment(val int, table *[8]int) int {
	for i, end := range table {
		if val <= end {
			return i
		}
	}
	return len(table)
}

// EncodeUlaw encodes one 16-bit linear sample as G.711 µ-law.
func EncodeUlaw(sample int16) byte {
	pcm := int(sample) >> 2 // µ-law works on 14 bits
	mask := 0xFF
	if pcm < 0 {
		pcm = -pcm
		mask = 0x7F
	}
	if pcm > ulawClip {
		pcm = ulawClip
	}
	pcm += ulawBias >> 2
	seg := segment(pcm, &segUEnd)
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	return byte(((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask)
}

// DecodeUlaw decodes one G.711 µ-law byte to a 16-bit linear sample.
func DecodeUlaw(b byte) int16 { return ulawDecode[b] }

// decodeUlaw is the reference µ-law expansion that fills ulawDecode.
func decodeUlaw(b byte) int16 {
	u := ^b
	t := (int(u&quantMask) << 3) + ulawBias
	t <<= (u & segMask) >> segShift
	if u&signBit != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

// EncodeAlaw encodes one 16-bit linear sample as G.711 A-law.
func EncodeAlaw(sample int16) byte {
	pcm := int(sample) >> 3 // A-law works on 13 bits
	mask := 0x55
	if pcm >= 0 {
		mask = 0xD5
	} else {
		pcm = -pcm - 1
	}
	seg := segment(pcm, &segAEnd)
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	aval := seg << segShift
	if seg < 2 {
		aval |= (pcm >> 1) & quantMask
	} else {
		aval |= (pcm >> seg) & quantMask
	}
	return byte(aval ^ mask)
}

// DecodeAlaw decodes one G.711 A-law byte to a 16-bit linear sample.
func DecodeAlaw(b byte) int16 { return alawDecode[b] }

// decodeAlaw is the reference A-law expansion that fills alawDecode.
func decodeAlaw(b byte) int16 {
	a := b ^ 0x55
	t := int(a&quantMask) << 4
	switch seg := int(a&segMask) >> segShift; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&signBit != 0 {
		return int16(t)
	}
	return int16(-t)
}

// Decode tables: constant data, computed once from the reference expansions.
var (
	ulawDecode = func() (t [256]int16) {
		for i := range t {
			t[i] = decodeUlaw(byte(i))
		}
		return t
	}()
	alawDecode = func() (t [256]int16) {
		for i := range t {
			t[i] = decodeAlaw(byte(i))
		}
		return t
	}()
)

// Table translates encoded bytes of one codec into another, one byte at a
// time: the fast path transcodes a packet's payload in place with it.
type Table [256]byte

// Apply translates p in place.
func (t *Table) Apply(p []byte) {
	for i, b := range p {
		p[i] = t[b]
	}
}

// Translation tables. Each entry is the reference decode of one codec
// followed by the reference encode of the other, so transcoding through the
// table gives exactly the bytes a decode-to-PCM-and-encode transcoder would.
var (
	ulawToAlaw = func() (t Table) {
		for i := range t {
			t[i] = EncodeAlaw(ulawDecode[i])
		}
		return t
	}()
	alawToUlaw = func() (t Table) {
		for i := range t {
			t[i] = EncodeUlaw(alawDecode[i])
		}
		return t
	}()
)

// Translation returns the table that turns bytes of from into bytes of to,
// and false when there is none (same codec, or an Unknown one). The table is
// returned by value so no caller can alter another's copy.
func Translation(from, to Codec) (Table, bool) {
	switch {
	case from == PCMU && to == PCMA:
		return ulawToAlaw, true
	case from == PCMA && to == PCMU:
		return alawToUlaw, true
	default:
		return Table{}, false
	}
}

// UlawToAlaw translates one µ-law byte to A-law.
func UlawToAlaw(b byte) byte { return ulawToAlaw[b] }

// AlawToUlaw translates one A-law byte to µ-law.
func AlawToUlaw(b byte) byte { return alawToUlaw[b] }

// DecodeG711 appends the linear samples of payload, encoded in c, to out
// and returns the extended slice; an Unknown codec decodes as silence. With
// out's capacity reused it allocates nothing (an in-band DTMF detector does
// this for every packet of a leg).
func DecodeG711(c Codec, payload []byte, out []int16) []int16 {
	var tab *[256]int16
	switch c {
	case PCMU:
		tab = &ulawDecode
	case PCMA:
		tab = &alawDecode
	default:
		for range payload {
			out = append(out, 0)
		}
		return out
	}
	for _, b := range payload {
		out = append(out, tab[b])
	}
	return out
}

// EncodeG711 appends pcm, encoded in c, to out and returns the extended
// slice; an Unknown codec encodes as zero bytes.
func EncodeG711(c Codec, pcm []int16, out []byte) []byte {
	for _, s := range pcm {
		out = append(out, c.Encode(s))
	}
	return out
}
