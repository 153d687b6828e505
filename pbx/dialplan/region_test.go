package dialplan

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const regionCSV = "\xef\xbb\xbfprefix,province,city\n" +
	"# mobile prefixes\n" +
	"1380013,北京,北京\n" +
	"1380014,广东,广州\n" +
	"1390755,广东,深圳\n" +
	"139,广东,\n" +
	"\n" +
	"010,北京,北京\r\n" +
	"020,广东,广州\n" +
	"0755,广东,深圳\n" +
	"0991, 新疆 , 乌鲁木齐 \n" +
	"\"0951\",\"宁夏\",\"银川\"\n" +
	"400,全国,\n"

func TestParseRegionCSV(t *testing.T) {
	tab, lines, err := ParseRegionCSV(strings.NewReader(regionCSV))
	if err != nil || lines != nil {
		t.Fatalf("ParseRegionCSV: %v %v", err, lines)
	}
	if tab.Len() != 10 {
		t.Errorf("Len = %d, want 10", tab.Len())
	}
	plan := DefaultNumberPlan()
	tests := []struct {
		number string
		region Region
		ok     bool
	}{
		{"13800138000", Region{"北京", "北京"}, true},
		{"+86 138 0014 0000", Region{"广东", "广州"}, true},
		{"013907551234", Region{"广东", "深圳"}, true},    // 1390755 beats 139
		{"13912345678", Region{"广东", ""}, true},       // only 139 matches
		{"010-12345678", Region{"北京", "北京"}, true},    // area code
		{"+86 20 87654321", Region{"广东", "广州"}, true}, // E.164 in, national lookup
		{"0755-12345678", Region{"广东", "深圳"}, true},
		{"0991-1234567", Region{"新疆", "乌鲁木齐"}, true},
		{"0951-1234567", Region{"宁夏", "银川"}, true},
		{"4008123456", Region{"全国", ""}, true},
		{"13700138000", Region{}, false},
		{"021-12345678", Region{}, false},
		{"+12125551234", Region{}, false}, // international: no national form
		{"8001", Region{}, false},
	}
	for _, tt := range tests {
		n, err := plan.Normalize(tt.number)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tab.Lookup(n)
		if got != tt.region || ok != tt.ok {
			t.Errorf("Lookup(%q) = %v %v, want %v %v", tt.number, got, ok, tt.region, tt.ok)
		}
	}
	var nilTable *RegionTable
	if _, ok := nilTable.Lookup(Number{National: "010"}); ok || nilTable.Len() != 0 || nilTable.Rows() != nil {
		t.Error("a nil table knows something")
	}
}

func TestParseRegionCSVHeaders(t *testing.T) {
	for _, head := range []string{"", "prefix,province,city\n", "Prefix , Province , City\n", "号段,省份,城市\n", "# comment\n\nPREFIX,PROVINCE,CITY\n"} {
		tab, lines, err := ParseRegionCSV(strings.NewReader(head + "010,北京,北京\n"))
		if err != nil || lines != nil || tab.Len() != 1 {
			t.Errorf("header %q: %v %v", head, err, lines)
		}
	}
	// A header is only accepted first; later it is a bad line.
	_, lines, err := ParseRegionCSV(strings.NewReader("010,北京,北京\nprefix,province,city\n"))
	if !errors.Is(err, ErrBadRegionCSV) || len(lines) != 1 || lines[0].Line != 2 {
		t.Errorf("late header: %v %v", err, lines)
	}
}

func TestParseRegionCSVBadLines(t *testing.T) {
	in := strings.Join([]string{
		"prefix,province,city",                    // 1
		"010,北京,北京",                               // 2 good
		"020,广东",                                  // 3 two fields
		"0755,广东,深圳,南山",                           // 4 four fields
		"07x5,广东,深圳",                              // 5 not digits
		",广东,深圳",                                  // 6 empty prefix
		"0991,,乌鲁木齐",                              // 7 empty province
		"010,北京,北京",                               // 8 duplicate of line 2
		"1234567890123,广东,深圳",                     // 9 too long
		"0951,\"宁夏,银川",                            // 10 unbalanced quotes
		"0951,宁夏\x01,银川",                          // 11 control character
		"0952,\xb1\xb1\xbe\xa9,石嘴山",               // 12 GBK bytes, not UTF-8
		"0953," + strings.Repeat("长", 33) + ",吴忠", // 13 name too long
		"# fine",     // 14
		"",           // 15
		"0954,宁夏,固原", // 16 good
	}, "\n")
	tab, lines, err := ParseRegionCSV(strings.NewReader(in))
	if !errors.Is(err, ErrBadRegionCSV) || tab != nil {
		t.Fatalf("err %v, table %v", err, tab)
	}
	var got []int
	for _, l := range lines {
		got = append(got, l.Line)
		if l.Msg == "" || l.Error() == "" {
			t.Errorf("line %d without a message", l.Line)
		}
	}
	want := []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bad lines %v, want %v", got, want)
	}
}

func TestParseRegionCSVLimits(t *testing.T) {
	// A file that is not a region table: the report stops at 100 lines.
	_, lines, err := ParseRegionCSV(strings.NewReader(strings.Repeat("garbage\n", 500)))
	if !errors.Is(err, ErrBadRegionCSV) || len(lines) != maxLineErrors {
		t.Errorf("garbage: %v, %d lines", err, len(lines))
	}
	// A line too long to be a region line.
	_, lines, err = ParseRegionCSV(strings.NewReader("010,北京,北京\n" + strings.Repeat("1", 5000) + "\n"))
	if !errors.Is(err, ErrBadRegionCSV) || len(lines) != 1 || lines[0].Line != 2 {
		t.Errorf("long line: %v %v", err, lines)
	}
	// A read error is no line error.
	_, lines, err = ParseRegionCSV(iotest.ErrReader(io.ErrUnexpectedEOF))
	if !errors.Is(err, io.ErrUnexpectedEOF) || lines != nil {
		t.Errorf("read error: %v %v", err, lines)
	}
	// An empty file is an empty table.
	tab, lines, err := ParseRegionCSV(strings.NewReader(""))
	if err != nil || lines != nil || tab.Len() != 0 {
		t.Errorf("empty: %v %v", err, lines)
	}
}

func TestRegionTableRowsRoundTrip(t *testing.T) {
	tab, _, err := ParseRegionCSV(strings.NewReader(regionCSV))
	if err != nil {
		t.Fatal(err)
	}
	rows := tab.Rows()
	if len(rows) != 10 || rows[0].Prefix != "010" || rows[len(rows)-1].Prefix != "400" {
		t.Errorf("rows = %v", rows)
	}
	again, err := NewRegionTable(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Rows(), rows) {
		t.Errorf("round trip differs:\n%v\n%v", again.Rows(), rows)
	}
	if reg, ok := again.LookupDigits("075512345678"); !ok || reg.City != "深圳" {
		t.Errorf("LookupDigits = %v %v", reg, ok)
	}
	var fe *FieldError
	if _, err := NewRegionTable([]RegionRow{{"010", "北京", "北京"}, {"010", "北京", "北京"}}); !errors.As(err, &fe) || fe.Field != "rows[1]" {
		t.Errorf("duplicate row: %v", err)
	}
	if _, err := NewRegionTable([]RegionRow{{"abc", "北京", "北京"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad row: %v", err)
	}
}

// "010" and "10" are different prefixes: leading zeros count.
func TestRegionPrefixLeadingZeros(t *testing.T) {
	tab, err := NewRegionTable([]RegionRow{{"10", "x", "ten"}, {"010", "北京", "北京"}, {"0010", "y", "double"}})
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]string{"01012345678": "北京", "1012345": "ten", "00101": "double"} {
		if reg, ok := tab.LookupDigits(d); !ok || reg.City != want {
			t.Errorf("LookupDigits(%q) = %v %v, want %s", d, reg, ok, want)
		}
	}
}

func TestRegionLookupDoesNotAllocate(t *testing.T) {
	tab, _, _ := ParseRegionCSV(strings.NewReader(regionCSV))
	n, _ := DefaultNumberPlan().Normalize("13800138000")
	if a := testing.AllocsPerRun(100, func() { tab.Lookup(n) }); a != 0 {
		t.Errorf("Lookup allocates %v times", a)
	}
}
