import Foundation
import Testing
@testable import Formats
import Table

/// Compares what ``FITSTableReader`` reads with what astropy reads from the same HDU.
enum FITSAstropy {
    /// One column as astropy reads it (written by ``dumpScript``).
    struct Column: Decodable {
        let name: String
        let tform: String
        let dtype: String
        let shape: [Int]?
        let vla: Bool
        let values: [Value]
        let mask: [Bool]
        let lengths: [Int]?
        let unit: String?
        let dim: String?
    }

    /// A value as the script writes it: numbers as their Python `repr` (exact), strings, booleans.
    enum Value: Decodable {
        case text(String), bool(Bool)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) } else { self = .text(try c.decode(String.self)) }
        }
    }

    struct Table: Decodable {
        let rows: Int
        let columns: [Column]
    }

    /// astropy's reading of HDU `hdu` of `path`.
    static func read(_ path: String, hdu: Int, in directory: URL) throws -> Table {
        let data = try FITSTestSupport.python(dumpScript, [path, String(hdu)], in: directory)
        return try JSONDecoder().decode(Table.self, from: data)
    }

    /// The Arrow type AstroPile must give a column astropy reads with this dtype and shape.
    static func expectedType(_ c: Column) -> DataType? {
        let kind = c.dtype.dropFirst().first
        let size = Int(c.dtype.dropFirst(2)) ?? 0
        let element: DataType
        switch (kind, size) {
        case ("b", _): element = .bool
        case ("u", 1): element = .uint8
        case ("u", 2): element = .uint16
        case ("u", 4): element = .uint32
        case ("u", 8): element = .uint64
        case ("i", 1): element = .int8
        case ("i", 2): element = .int16
        case ("i", 4): element = .int32
        case ("i", 8): element = .int64
        case ("f", 4): element = .float32
        case ("f", 8): element = .float64
        case ("c", 8): element = .fixedSizeList(Field("item", .float32), size: 2)
        case ("c", 16): element = .fixedSizeList(Field("item", .float64), size: 2)
        case ("U", _), ("S", _): element = .string
        default: return nil
        }
        if c.vla { return element == .string ? .string : .list(Field("item", element)) }
        guard let shape = c.shape, !shape.isEmpty else { return element }
        return .fixedSizeList(Field("item", element), size: shape.reduce(1, *))
    }

    /// Reads `path` with AstroPile (in batches of `batchRows`) and with astropy, and checks every
    /// column: type, metadata, null positions and every value (floats bit for bit).
    static func compare(_ path: String, hdu: FITSHDUSelector = .firstTable, batchRows: Int = 65_536,
                        maxBatchBytes: Int = 64 << 20, in directory: URL,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (reader, batches) = try FITSTestSupport.readAll(path, hdu: hdu, batchRows: batchRows, maxBatchBytes: maxBatchBytes)
        let expected = try read(path, hdu: reader.hdu, in: directory)
        #expect(reader.rowCount == expected.rows, sourceLocation: sourceLocation)
        #expect(batches.reduce(0) { $0 + $1.length } == expected.rows, sourceLocation: sourceLocation)
        #expect(reader.schema.names == expected.columns.map(\.name), sourceLocation: sourceLocation)
        for (index, column) in expected.columns.enumerated() where index < reader.schema.fields.count {
            let field = reader.schema.fields[index]
            let what = "\(path) HDU \(reader.hdu) column \(column.name) (\(column.tform), astropy \(column.dtype) \(column.shape ?? []))"
            #expect(field.type == expectedType(column), "\(what): type \(field.type)", sourceLocation: sourceLocation)
            if let shape = column.shape, !shape.isEmpty {
                #expect(field.metadataValue("shape") == shape.map(String.init).joined(separator: ","), "\(what): shape metadata", sourceLocation: sourceLocation)
            }
            if let dim = column.dim {
                #expect(field.metadataValue("TDIM") == dim.filter { $0 != " " }, "\(what): TDIM metadata", sourceLocation: sourceLocation)
            }
            if let unit = column.unit, !unit.isEmpty {
                #expect(field.metadataValue("unit") == unit, "\(what): unit", sourceLocation: sourceLocation)
            }
            var values: [FITSTestSupport.Scalar?] = []
            var lengths: [Int] = []
            for b in batches {
                let l = FITSTestSupport.leaves(b.columns[index])
                values += l.values
                lengths += l.lengths
            }
            if column.vla, field.type != .string, let expectedLengths = column.lengths {
                let leavesPerElement = column.dtype.dropFirst().first == "c" ? 2 : 1
                #expect(lengths == expectedLengths.map { $0 * leavesPerElement }, "\(what): list lengths", sourceLocation: sourceLocation)
            }
            guard values.count == column.values.count else {
                Issue.record("\(what): \(values.count) values, astropy \(column.values.count)", sourceLocation: sourceLocation)
                continue
            }
            var mismatches = 0
            for (i, (got, want)) in zip(values, column.values).enumerated() {
                let ok = matches(got, want, null: column.mask[i])
                if !ok {
                    mismatches += 1
                    if mismatches <= 5 {
                        Issue.record("\(what): value \(i) is \(got.map(\.description) ?? "null"), astropy \(want) (null: \(column.mask[i]))",
                                     sourceLocation: sourceLocation)
                    }
                }
            }
        }
    }

    private static func matches(_ got: FITSTestSupport.Scalar?, _ want: Value, null: Bool) -> Bool {
        guard let got else { return null }
        if null { return false }
        switch (got, want) {
        case (.bool(let g), .bool(let w)): return g == w
        case (.string(let g), .text(let w)): return g == w
        case (.int(let g), .text(let w)): return Int64(w) == g
        case (.uint(let g), .text(let w)): return UInt64(w) == g
        case (.double(let g), .text(let w)):
            guard let d = Double(w) else { return false }
            return d.isNaN ? g.isNaN : d.bitPattern == g.bitPattern
        default: return false
        }
    }

    /// Writes astropy's reading of one HDU as JSON: per column its dtype, per-row shape, every
    /// value flattened row-major (numbers as exact `repr` text, complex as real, imaginary), and
    /// which are null (`TNULL` on the stored value, logical 0). Strings lose trailing blanks as in
    /// `Table.read`. Variable-length arrays: scaled as the FITS standard says (astropy leaves
    /// them raw), `PA` joined into one string per row.
    static let dumpScript = #"""
import sys, json, warnings
import numpy as np
from astropy.io import fits

warnings.simplefilter('ignore')

def fmt(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.floating, float)):
        return repr(float(x))
    if isinstance(x, (np.integer, int)):
        return str(int(x))
    if isinstance(x, (bytes, np.bytes_)):
        return x.decode('ascii')
    return str(x)

def flat(a):
    a = np.asarray(a)
    if a.dtype.kind == 'c':
        out = []
        for z in a.reshape(-1):
            out += [repr(float(z.real)), repr(float(z.imag))]
        return out
    return [fmt(v) for v in a.reshape(-1)]

def dump(path, hdu, columns=None):
    with fits.open(path) as hl, fits.open(path, logical_as_bytes=True) as hb:
        h = hl[hdu]
        data = h.data
        raw_rec = hb[hdu].data
        out = {'rows': len(data), 'columns': []}
        for col in h.columns:
            name = col.name
            if columns and name not in columns:
                continue
            is_vla = str(col.format).lstrip('0123456789')[:1] in ('P', 'Q')
            entry = {'name': name, 'tform': str(col.format)}
            if is_vla:
                values, mask, lengths = [], [], []
                elem = str(col.format).lstrip('0123456789')[1]
                rawcol = raw_rec.field(name)
                for i, arr in enumerate(data.field(name)):
                    arr = np.asarray(arr)
                    if elem == 'A':
                        lengths.append(1)
                        s = ''.join(str(c) for c in arr.reshape(-1))
                        values.append(s.rstrip(' '))
                        mask.append(False)
                        continue
                    rawarr = np.asarray(rawcol[i])
                    m = np.zeros(arr.shape, bool)
                    if elem == 'L':
                        m = rawarr == b'\x00' if rawarr.dtype.kind == 'S' else rawarr == 0
                    elif col.null is not None and arr.dtype.kind in 'iu':
                        m = arr == col.null
                    if elem in 'BIJK' and (col.bscale not in (None, 1) or col.bzero not in (None, 0)):
                        arr = arr.astype(np.float64) * (col.bscale if col.bscale is not None else 1) + (col.bzero or 0)
                    lengths.append(int(arr.size))
                    values += flat(arr)
                    mask += ([bool(v) for v in m.reshape(-1) for _ in range(2)] if arr.dtype.kind == 'c' else [bool(v) for v in m.reshape(-1)])
                scaled = elem in 'BIJK' and (col.bscale not in (None, 1) or col.bzero not in (None, 0))
                dtype = '<f8' if scaled else {'L': '|b1', 'X': '|b1', 'B': '|u1', 'I': '>i2', 'J': '>i4', 'K': '>i8', 'E': '>f4', 'D': '>f8', 'C': '>c8', 'M': '>c16', 'A': '<U1'}[elem]
                entry.update(vla=True, dtype=dtype, lengths=lengths, values=values, mask=mask)
            else:
                arr = np.asarray(data.field(name))
                entry['dtype'] = arr.dtype.str
                entry['shape'] = list(arr.shape[1:])
                entry['vla'] = False
                entry['values'] = flat(arr)
                if arr.dtype.kind in 'SU':
                    entry['values'] = [v.rstrip(' ') for v in entry['values']]
                mask = np.zeros(arr.shape, bool)
                if str(col.format)[-1] == 'L':
                    rb = np.asarray(raw_rec.field(name))
                    mask = (rb == b'\x00') if rb.dtype.kind == 'S' else (rb == 0)
                elif col.null is not None and str(col.format)[-1] in 'BIJK':
                    rawv = np.ndarray.view(np.asarray(super(fits.FITS_rec, data).field(data.names.index(name))), np.ndarray)
                    mask = rawv == col.null
                if arr.dtype.kind == 'c':
                    mask = np.repeat(mask.reshape(-1), 2)
                entry['mask'] = [bool(v) for v in np.asarray(mask).reshape(-1)]
                entry['unit'] = col.unit
                entry['dim'] = col.dim
            out['columns'].append(entry)
        return out

if __name__ == '__main__':
    path, hdu = sys.argv[1], int(sys.argv[2])
    json.dump(dump(path, hdu), sys.stdout)
"""#

    /// Writes a binary table holding every TFORM (with TNULL, TSCAL/TZERO, TDIM, TUNIT, undefined
    /// logicals, variable-length arrays) byte by byte, so nothing in between decides the layout.
    static let kitchenSinkScript = #"""
import numpy as np, sys

def card(key, value=None, comment=None):
    if value is None:
        s = key.ljust(8)
    else:
        if isinstance(value, bool):
            v = ('T' if value else 'F').rjust(20)
        elif isinstance(value, str):
            v = "'" + value.replace("'", "''").ljust(8) + "'"
        elif isinstance(value, int):
            v = str(value).rjust(20)
        else:
            v = repr(float(value)).upper().rjust(20)
        s = key.ljust(8) + '= ' + v
    assert len(s) <= 80, s
    return s.ljust(80)

def block(cards):
    text = ''.join(cards) + 'END'.ljust(80)
    text += ' ' * (-len(text) % 2880)
    return text.encode('ascii')

def pad(b):
    return b + b'\0' * (-len(b) % 2880)

def bintable(nrows, cols, heap=b'', extname=None):
    # cols: list of (name, tform, extra_cards(list of (k,v)), raw ndarray shape (nrows, width) uint8)
    width = sum(c[3].shape[1] for c in cols)
    rows = np.concatenate([c[3] for c in cols], axis=1) if cols else np.zeros((nrows, 0), np.uint8)
    assert rows.shape == (nrows, width)
    cards = [card('XTENSION', 'BINTABLE'), card('BITPIX', 8), card('NAXIS', 2), card('NAXIS1', width),
             card('NAXIS2', nrows), card('PCOUNT', len(heap)), card('GCOUNT', 1), card('TFIELDS', len(cols))]
    if extname: cards.append(card('EXTNAME', extname))
    for i, (name, tform, extra, _) in enumerate(cols, 1):
        cards.append(card(f'TTYPE{i}', name)); cards.append(card(f'TFORM{i}', tform))
        for k, v in extra: cards.append(card(f'{k}{i}', v))
    return block(cards) + pad(rows.tobytes() + heap)

def primary():
    return block([card('SIMPLE', True), card('BITPIX', 8), card('NAXIS', 0), card('EXTEND', True)])

def raw(arr, nrows):
    a = np.ascontiguousarray(arr)
    return np.frombuffer(a.tobytes(), np.uint8).reshape(nrows, -1)

def kitchen_sink(path):
    n = 7
    rng = np.random.default_rng(42)
    cols = []
    cols.append(('LOG', 'L', [], raw(np.array([b'T', b'F', b'\0', b'T', b'F', b'T', b'\0'], 'S1'), n)))
    l3 = np.array([[b'T', b'F', b'\0']] * n, 'S1'); l3[2] = [b'\0', b'T', b'T']
    cols.append(('LOG3', '3L', [], raw(l3, n)))
    cols.append(('BIT1', '1X', [], raw(np.array([0x80, 0, 0x80, 0x7f, 0xff, 0, 0x80], np.uint8), n)))
    bits = rng.integers(0, 256, size=(n, 2), dtype=np.uint8); bits[:, 1] &= 0xE0
    cols.append(('BITS11', '11X', [], raw(bits, n)))
    cols.append(('UB', 'B', [], raw(np.array([0, 1, 127, 128, 255, 7, 9], np.uint8), n)))
    cols.append(('SB', 'B', [('TZERO', -128)], raw(np.array([0, 1, 127, 128, 255, 7, 9], np.uint8), n)))
    cols.append(('BNULL', 'B', [('TNULL', 255)], raw(np.array([0, 255, 127, 128, 255, 7, 9], np.uint8), n)))
    cols.append(('I16', 'I', [('TNULL', -999), ('TUNIT', 'count')], raw(np.array([-32768, -999, 0, 1, 32767, -999, 5], '>i2'), n)))
    cols.append(('U16', 'I', [('TSCAL', 1), ('TZERO', 32768)], raw(np.array([-32768, -1, 0, 1, 32767, 100, 5], '>i2'), n)))
    cols.append(('J32', 'J', [], raw(np.array([-2**31, -1, 0, 1, 2**31 - 1, 100, 5], '>i4'), n)))
    cols.append(('U32', 'J', [('TZERO', 2147483648)], raw(np.array([-2**31, -1, 0, 1, 2**31 - 1, 100, 5], '>i4'), n)))
    cols.append(('K64', 'K', [('TNULL', -9223372036854775807)], raw(np.array([-2**63, -1, 0, 1, 2**63 - 1, -9223372036854775807, 5], '>i8'), n)))
    cols.append(('U64', 'K', [('TZERO', 9223372036854775808)], raw(np.array([-2**63, -1, 0, 1, 2**63 - 1, 100, 5], '>i8'), n)))
    cols.append(('SCALEDI', 'I', [('TSCAL', 0.5), ('TZERO', 10.0), ('TNULL', -1)], raw(np.array([-3, -1, 0, 1, 32767, 100, 5], '>i2'), n)))
    cols.append(('SCALEDJ', 'J', [('TSCAL', 2.5)], raw(np.array([-3, -1, 0, 1, 2**31 - 1, 100, 5], '>i4'), n)))
    cols.append(('SCALEDB', 'B', [('TZERO', 100)], raw(np.array([0, 1, 2, 3, 255, 100, 5], np.uint8), n)))
    cols.append(('SCALED2J', '2J', [('TSCAL', 0.25), ('TNULL', 7)], raw(np.array([[1, 2], [3, 7], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14]], '>i4'), n)))
    cols.append(('E32', 'E', [], raw(np.array([1.5, -0.0, np.nan, np.inf, -np.inf, 1e-40, 3.4e38], '>f4'), n)))
    cols.append(('D64', 'D', [], raw(np.array([1.5, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308], '>f8'), n)))
    cols.append(('ESCALED', 'E', [('TSCAL', 2.0), ('TZERO', 1.0)], raw(np.array([1.5, -0.0, np.nan, 1, 2, 3, 4], '>f4'), n)))
    cols.append(('DSCALED', 'D', [('TSCAL', 2.0), ('TZERO', 1.0)], raw(np.array([1.5, -0.0, np.nan, 1, 2, 3, 4], '>f8'), n)))
    cols.append(('CPX', 'C', [], raw(np.array([1 + 2j, -1j, 0, 3.5, np.nan, 1e10 + 1j, 2], '>c8'), n)))
    cols.append(('DCPX', 'M', [], raw(np.array([1 + 2j, -1j, 0, 3.5, np.nan, 1e10 + 1j, 2], '>c16'), n)))
    cols.append(('CPX2', '2C', [], raw(rng.normal(size=(n, 2)).astype('>f4').view('>c8') if False else (rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))).astype('>c8'), n)))
    cols.append(('STR', '8A', [], raw(np.array([b'abc', b'  lead', b'', b'trail   ', b'12345678', b'x\0\0\0\0\0\0\0', b'a b'], 'S8'), n)))
    s = np.array([[b'ab', b'cd  ', b'', ], [b'1234', b'x', b'y']] * 3 + [[b'p', b'q', b'r']], 'S4')
    cols.append(('STRARR', '12A', [('TDIM', '(4,3)')], raw(s, n)))
    cols.append(('ARR2D', '6J', [('TDIM', '(3,2)'), ('TUNIT', 'adu')], raw(np.arange(n * 6, dtype='>i4').reshape(n, 6), n)))
    cols.append(('ARR3D', '24E', [('TDIM', '( 4, 3, 2)')], raw(rng.normal(size=(n, 24)).astype('>f4'), n)))
    cols.append(('ARRU16', '3I', [('TZERO', 32768), ('TNULL', 0)], raw(np.array([[-32768, 0, 1]] * n, '>i2'), n)))
    cols.append(('ONE', '1E', [], raw(np.arange(n, dtype='>f4'), n)))
    cols.append(('ONEDIM', '1E', [('TDIM', '(1)')], raw(np.arange(n, dtype='>f4'), n)))
    # variable-length arrays
    heap = bytearray()
    def vla(kind, lists, dtype, tform, extra=[]):
        desc = []
        for l in lists:
            a = np.asarray(l, dtype=dtype)
            b = a.tobytes()
            desc.append((len(l), len(heap)))
            heap.extend(b)
        d = np.array(desc, '>i4' if kind == 'P' else '>i8')
        cols.append((tform[0], tform[1], extra, raw(d, n)))
    lens = [0, 1, 3, 5, 2, 0, 4]
    vla('P', [rng.normal(size=k) for k in lens], '>f4', ('VLAE', 'PE(5)'))
    vla('P', [np.arange(k) * 3 - 2 for k in lens], '>i4', ('VLAJ', 'PJ(5)'), [('TNULL', 4)])
    vla('Q', [rng.normal(size=k) for k in lens], '>f8', ('VLAD', 'QD(5)'))
    vla('P', [np.frombuffer(b'hello world'[:k], np.uint8) for k in lens], np.uint8, ('VLAA', 'PA(5)'))
    vla('P', [np.frombuffer((b'TF\0TF')[:k], np.uint8) for k in lens], np.uint8, ('VLAL', 'PL(5)'))
    vla('P', [np.arange(k, dtype=np.uint8) + 250 for k in lens], np.uint8, ('VLAB', 'PB(5)'))
    vla('P', [(np.arange(k) + 1j) for k in lens], '>c8', ('VLAC', 'PC(5)'))
    vla('Q', [np.arange(k) * 100 for k in lens], '>i2', ('VLAI', 'QI(5)'), [('TSCAL', 0.5), ('TZERO', 3.0)])
    with open(path, 'wb') as f:
        f.write(primary() + bintable(n, cols, bytes(heap), extname='SINK'))

if __name__ == '__main__':
    kitchen_sink(sys.argv[1])
"""#
}
