package siptest

// G.711 after the ITU reference (Sun's g711.c), written here rather than
// taken from media/codec so the phone checks the appliance's transcoding
// with an independent implementation.

var (
	segUEnd = [8]int{0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF}
	segAEnd = [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
)

func search(v int, table *[8]int) int {
	for i, e := range table {
		if v <= e {
			return i
		}
	}
	return 8
}

// EncodeUlaw encodes a 16-bit linear sample as µ-law.
func EncodeUlaw(s int16) byte {
	v := int(s) >> 2
	mask := 0xFF
	if v < 0 {
		v = -v
		mask = 0x7F
	}
	v = min(v, 8159) + (0x84 >> 2)
	seg := search(v, &segUEnd)
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	return byte(((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask)
}

// DecodeUlaw decodes a µ-law byte.
func DecodeUlaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (int(u) & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// EncodeAlaw encodes a 16-bit linear sample as A-law.
func EncodeAlaw(s int16) byte {
	v := int(s) >> 3
	mask := 0xD5
	if v < 0 {
		v = -v - 1
		mask = 0x55
	}
	seg := search(v, &segAEnd)
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	a := seg << 4
	if seg < 2 {
		a |= (v >> 1) & 0xF
	} else {
		a |= (v >> seg) & 0xF
	}
	return byte(a ^ mask)
}

// DecodeAlaw decodes an A-law byte.
func DecodeAlaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := (int(a) & 0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// Decode decodes a G.711 payload of payload type pt to linear samples.
func Decode(pt uint8, payload []byte) []int16 {
	out := make([]int16, len(payload))
	for i, b := range payload {
		if pt == PCMA {
			out[i] = DecodeAlaw(b)
		} else {
			out[i] = DecodeUlaw(b)
		}
	}
	return out
}
