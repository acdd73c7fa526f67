#include "Safetensors.h"
#include "ModelError.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

namespace mfx::safetensors {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& what) { throw ModelError(source + ": " + what); }

std::uint64_t readU64LE(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// First pass over the header: syntax, nesting depth and duplicate keys at every level, which a json
// value cannot show afterwards (the later key silently wins). A SAX handler keeps this linear; the
// parser callback of nlohmann 3.11.2 rescans a parent's children whenever a nested object closes.
class HeaderCheck {
public:
    using number_integer_t = json::number_integer_t;
    using number_unsigned_t = json::number_unsigned_t;
    using number_float_t = json::number_float_t;
    using string_t = json::string_t;
    using binary_t = json::binary_t;

    bool tooDeep = false;
    bool duplicate = false;
    bool topLevel = false; // the duplicate is a key of the outermost object (a tensor name)
    std::string duplicateKey;
    std::string syntaxError;

    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(number_integer_t) { return true; }
    bool number_unsigned(number_unsigned_t) { return true; }
    bool number_float(number_float_t, const string_t&) { return true; }
    bool string(string_t&) { return true; }
    bool binary(binary_t&) { return true; }
    bool start_object(std::size_t) {
        objects_.emplace_back();
        return open();
    }
    bool end_object() {
        objects_.pop_back();
        --depth_;
        return true;
    }
    bool start_array(std::size_t) { return open(); }
    bool end_array() {
        --depth_;
        return true;
    }
    bool key(string_t& k) {
        if (objects_.back().insert(k).second) return true;
        duplicate = true;
        topLevel = depth_ == 1;
        duplicateKey = k;
        return false; // stop at the first duplicate
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
        syntaxError = e.what();
        return false;
    }

private:
    bool open() {
        if (++depth_ <= kMaxNesting) return true;
        tooDeep = true;
        return false;
    }
    std::vector<std::set<std::string>> objects_; // keys seen so far, per open object
    int depth_ = 0;                               // open objects + arrays
};

json parseHeader(std::span<const std::uint8_t> header, const std::string& source) {
    HeaderCheck check;
    const bool ok = json::sax_parse(header.begin(), header.end(), &check, json::input_format_t::json,
                                    /*strict=*/true, /*ignore_comments=*/false);
    if (check.tooDeep)
        fail(source, "the header JSON nests deeper than " + std::to_string(kMaxNesting) +
                         " levels; this is not a safetensors header");
    if (check.duplicate) {
        if (check.topLevel)
            fail(source, "duplicate tensor name " + quoteName(check.duplicateKey) + " in the header; each tensor must appear once");
        fail(source, "duplicate key " + quoteName(check.duplicateKey) + " inside a header entry; each field must appear once");
    }
    if (!ok || !check.syntaxError.empty())
        fail(source, "the header is not valid JSON (" +
                         (check.syntaxError.empty() ? std::string("parse stopped") : check.syntaxError.substr(0, 300)) +
                         "); the file is corrupt or not a safetensors model");
    try {
        return json::parse(header.begin(), header.end(), nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const json::exception& e) { // not expected after the first pass
        fail(source, "the header is not valid JSON (" + std::string(e.what()).substr(0, 300) +
                         "); the file is corrupt or not a safetensors model");
    }
}

bool isOffsetPair(const json& v) {
    return v.is_array() && v.size() == 2 && v[0].is_number_unsigned() && v[1].is_number_unsigned();
}

Entry parseEntry(const std::string& name, const json& v, std::uint64_t dataSize, const std::string& source) {
    const std::string q = "tensor " + quoteName(name);
    if (!v.is_object())
        fail(source, "the header entry for " + q + " is a " + v.type_name() +
                         ", not an object {\"dtype\", \"shape\", \"data_offsets\"}");
    for (const auto& item : v.items())
        if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
            fail(source, q + " has an unexpected field " + quoteName(item.key()) +
                             " (allowed: dtype, shape, data_offsets)");
    for (const char* field : {"dtype", "shape", "data_offsets"})
        if (!v.contains(field)) fail(source, q + " has no '" + field + "' field");

    Entry e;
    e.name = name;
    const json& dtype = v["dtype"];
    if (!dtype.is_string()) fail(source, q + " has a dtype that is a " + dtype.type_name() + ", not a string");
    e.dtype = dtype.get<std::string>();

    const json& shape = v["shape"];
    bool shapeOk = shape.is_array();
    if (shapeOk)
        for (const auto& d : shape) shapeOk = shapeOk && d.is_number_unsigned();
    if (!shapeOk) fail(source, q + " has a shape that is not an array of non-negative integers");
    for (const auto& d : shape) e.shape.push_back(d.get<std::uint64_t>());

    const json& offsets = v["data_offsets"];
    if (!isOffsetPair(offsets))
        fail(source, q + " has malformed data_offsets: expected [begin, end] with two non-negative integers");
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    if (e.end < e.begin)
        fail(source, q + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                         "] whose end is before its begin");
    if (e.end > dataSize)
        fail(source, q + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                         "] that reach past the end of the file: the data section holds only " +
                         std::to_string(dataSize) + " bytes (truncated file?)");
    return e;
}

// The data section must be tiled exactly by the tensors.
void checkLayout(const std::vector<Entry>& entries, std::uint64_t dataSize, const std::string& source) {
    std::uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries) {
        if (e.begin < covered)
            fail(source, "tensors " + quoteName(previous->name) + " and " + quoteName(e.name) +
                             " overlap in the data section (bytes " + std::to_string(e.begin) + ".." +
                             std::to_string(covered) + " are claimed twice)");
        if (e.begin > covered)
            fail(source, "the data section has a hole: bytes [" + std::to_string(covered) + ", " +
                             std::to_string(e.begin) + ") before tensor " + quoteName(e.name) +
                             " belong to no tensor");
        if (e.end > covered) {
            covered = e.end;
            previous = &e;
        }
    }
    if (covered < dataSize)
        fail(source, std::to_string(dataSize - covered) +
                         " trailing bytes after the last tensor belong to no tensor (extra data at the end of the file)");
}

} // namespace

std::string escapeControls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const auto escape = [&out](unsigned char b) {
        static const char* hex = "0123456789ABCDEF";
        out += "\\x";
        out += hex[b >> 4];
        out += hex[b & 15];
    };
    for (size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) { // ASCII: C0 controls and DEL escaped
            if (b < 0x20 || b == 0x7F) escape(b);
            else out += static_cast<char>(b);
            ++i;
            continue;
        }
        // The length of a well-formed UTF-8 sequence starting here, 0 if there is none.
        const auto at = [&](size_t k) -> unsigned {
            return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u;
        };
        const auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return at(k) >= lo && at(k) <= hi; };
        size_t n = 0;
        if (b >= 0xC2 && b <= 0xDF) n = cont(1) ? 2 : 0;
        else if (b == 0xE0) n = cont(1, 0xA0) && cont(2) ? 3 : 0;
        else if (b == 0xED) n = cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
        else if (b >= 0xE1 && b <= 0xEF) n = cont(1) && cont(2) ? 3 : 0;
        else if (b == 0xF0) n = cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
        else if (b >= 0xF1 && b <= 0xF3) n = cont(1) && cont(2) && cont(3) ? 4 : 0;
        else if (b == 0xF4) n = cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
        if (n == 0 || (b == 0xC2 && at(1) <= 0x9F)) { // not UTF-8, or a C1 control (U+0080..U+009F)
            escape(b);
            if (n == 2) escape(at(1));
            i += n == 0 ? 1 : n;
            continue;
        }
        out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

std::string quoteName(const std::string& name) {
    constexpr size_t kMax = 120;
    std::string quoted = "'";
    if (name.size() <= kMax) return quoted + escapeControls(name) + "'";
    return quoted + escapeControls(std::string_view(name).substr(0, kMax)) + "...' (" + std::to_string(name.size()) +
           " characters)";
}

std::string shapeString(const std::vector<std::uint64_t>& shape) {
    constexpr size_t kMaxDims = 8; // a corrupt header can hold millions of dimensions
    std::string s = "[";
    for (size_t i = 0; i < std::min(shape.size(), kMaxDims); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() > kMaxDims) return s + ", ...] (" + std::to_string(shape.size()) + " dims)";
    return s + "]";
}

Container parse(std::span<const std::uint8_t> bytes, const std::string& source, std::uint64_t maxHeaderBytes) {
    if (bytes.size() < 8)
        fail(source, "the file is too short (" + std::to_string(bytes.size()) +
                         " bytes) to be a safetensors model; it must start with an 8-byte header length");
    const std::uint64_t headerLen = readU64LE(bytes.data());
    const std::uint64_t available = bytes.size() - 8;
    if (headerLen > maxHeaderBytes)
        fail(source, "the header length " + std::to_string(headerLen) + " exceeds the limit of " +
                         std::to_string(maxHeaderBytes) + " bytes; the file is corrupt or not a safetensors model");
    if (headerLen > available)
        fail(source, "the header length " + std::to_string(headerLen) + " reaches beyond the end of the file (" +
                         std::to_string(available) + " bytes follow the length field); the file is truncated");

    // nlohmann's lexer takes a NUL byte for the end of input, so whatever followed one would be ignored.
    // The format allows only space padding after the JSON, and a NUL is invalid inside a JSON string.
    const auto headerBytes = bytes.subspan(8, headerLen);
    if (const auto nul = std::find(headerBytes.begin(), headerBytes.end(), std::uint8_t{0}); nul != headerBytes.end())
        fail(source, "the header contains a NUL byte at offset " + std::to_string(nul - headerBytes.begin()) +
                         " (only space padding may follow the JSON); the file is corrupt or not a safetensors model");
    const json header = parseHeader(headerBytes, source);
    if (!header.is_object())
        fail(source, std::string("the header is a JSON ") + header.type_name() +
                         ", not a JSON object mapping tensor names to entries");

    Container c;
    c.data = bytes.subspan(8 + headerLen);
    for (const auto& item : header.items()) {
        if (item.key() == "__metadata__") {
            c.hasMetadata = true;
            if (!item.value().is_object())
                fail(source, std::string("__metadata__ is a ") + item.value().type_name() +
                                 ", not an object of string values");
            for (const auto& m : item.value().items()) {
                if (!m.value().is_string())
                    fail(source, "the __metadata__ value for key " + quoteName(m.key()) + " is a " +
                                     m.value().type_name() + "; safetensors metadata values must be strings");
                c.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        c.entries.push_back(parseEntry(item.key(), item.value(), c.data.size(), source));
    }
    std::sort(c.entries.begin(), c.entries.end(),
              [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    checkLayout(c.entries, c.data.size(), source);
    return c;
}

std::vector<std::uint8_t> write(const std::map<std::string, std::string>& metadata,
                                const std::vector<OutTensor>& tensors) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (t.name == "__metadata__" || header.contains(t.name))
            throw ModelError("cannot write tensor " + quoteName(t.name) + ": the name is reserved or used twice");
        std::uint64_t count = 1;
        for (int d : t.shape) count *= static_cast<std::uint64_t>(std::max(d, 0));
        if (count != t.values.size())
            throw ModelError("cannot write tensor " + quoteName(t.name) + ": it has " + std::to_string(t.values.size()) +
                             " values but its shape needs " + std::to_string(count));
        const std::uint64_t bytes = count * sizeof(float);
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
    } catch (const nlohmann::ordered_json::exception& e) {
        throw ModelError("cannot write the model: a metadata string is not valid UTF-8 (" + std::string(e.what()) + ")");
    }
    text.append((8 - text.size() % 8) % 8, ' ');

    std::vector<std::uint8_t> out(8 + text.size() + offset);
    const std::uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
    std::memcpy(out.data() + 8, text.data(), text.size());
    std::uint8_t* p = out.data() + 8 + text.size();
    for (const auto& t : tensors) {
        if constexpr (std::endian::native == std::endian::little) {
            if (!t.values.empty()) std::memcpy(p, t.values.data(), t.values.size_bytes());
            p += t.values.size_bytes();
        } else {
            for (float f : t.values) {
                const auto u = std::bit_cast<std::uint32_t>(f);
                for (int i = 0; i < 4; ++i) *p++ = static_cast<std::uint8_t>(u >> (8 * i));
            }
        }
    }
    return out;
}

} // namespace mfx::safetensors
