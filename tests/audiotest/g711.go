package audiotest

// G.711 after the ITU-T tables (the classic Sun reference code), for tests
// that make or read RTP payloads: the appliance has its own codec, so the
// tests encode and decode with an independent one.

// Payload types of the static RTP profile (RFC 3551).
const (
	PayloadPCMU uint8 = 0
	PayloadPCMA uint8 = 8
)

// EncodeG711 encodes linear samples for payload type pt (PCMU or PCMA).
func EncodeG711(pt uint8, samples []int16) []byte {
	out := make([]byte, len(samples))
	for i, s := range samples {
		if pt == PayloadPCMA {
			out[i] = alawEncode(s)
		} else {
			out[i] = ulawEncode(s)
		}
	}
	return out
}

// DecodeG711 decodes a PCMU or PCMA payload to linear samples.
func DecodeG711(pt uint8, payload []byte) []int16 {
	out := make([]int16, len(payload))
	for i, b := range payload {
		if pt == PayloadPCMA {
			out[i] = alawDecode(b)
		} else {
			out[i] = ulawDecode(b)
		}
	}
	return out
}

func ulawEncode(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func ulawDecode(b byte) int16 {
	b = ^b
	t := (int(b&0x0F) << 3) + 0x84
	t <<= (b & 0x70) >> 4
	if b&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alawEncode(s int16) byte {
	v := int(s) >> 3 // A-law works on 13 bits
	mask := 0xD5
	if v < 0 {
		mask, v = 0x55, -v-1
	}
	seg := 0
	for end := 0x1F; seg < 8 && v > end; end = end<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	a := seg << 4
	if seg < 2 {
		a |= (v >> 1) & 0x0F
	} else {
		a |= (v >> seg) & 0x0F
	}
	return byte(a ^ mask)
}

func alawDecode(b byte) int16 {
	b ^= 0x55
	t := int(b&0x0F) << 4
	switch seg := (b & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if b&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
