#pragma once
// The generic safetensors container (https://github.com/huggingface/safetensors), model-agnostic:
//   [u64 little-endian N][N bytes of JSON header, padded with spaces][data section]
//   header = {"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
// data_offsets are byte offsets into the data section, end exclusive.
//
// parse() checks everything that does not need to know which model the file holds: header length, JSON syntax,
// duplicate keys (nlohmann objects silently drop them, so a parser callback catches them), the structure of
// every entry, and that the data_offsets tile the data section exactly (no overlap, hole or trailing byte, nothing
// past the end). It never reads outside `bytes`. Model-specific checks (names, dtype, shapes) live in ModelFile.cpp.
// Every error is a ModelError starting with "<source>: ".
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mfx::safetensors {

inline constexpr int kMaxNesting = 64; // JSON nesting depth accepted in a header (a real one needs 3)

struct Entry {
    std::string name;
    std::string dtype;                 // as written, e.g. "F32", "BF16"
    std::vector<std::uint64_t> shape;  // as written
    std::uint64_t begin = 0, end = 0;  // byte range in the data section, begin <= end <= data.size()
};

struct Container {
    bool hasMetadata = false;
    std::map<std::string, std::string> metadata;
    std::vector<Entry> entries;          // sorted by begin
    std::span<const std::uint8_t> data;  // the data section (a view into the parsed bytes)
};

Container parse(std::span<const std::uint8_t> bytes, const std::string& source, std::uint64_t maxHeaderBytes);

struct OutTensor {
    std::string name;
    std::vector<int> shape;    // row-major
    std::span<const float> values; // product(shape) values, written as F32 little-endian
};

// Writes the tensors contiguously in the given order after a header padded with spaces to a multiple of 8 bytes
// (as the reference implementation does). Throws ModelError on a duplicate or reserved name, a size that does not
// match its shape, or metadata that is not valid UTF-8.
std::vector<std::uint8_t> write(const std::map<std::string, std::string>& metadata,
                                const std::vector<OutTensor>& tensors);

// "[a, b, c]" for error messages; more than 8 dimensions show as "[d0, ..., d7, ...] (N dims)".
std::string shapeString(const std::vector<std::uint64_t>& shape);
// A name quoted for an error message, shortened if absurdly long, with escapeControls() applied.
std::string quoteName(const std::string& name);
// `text` safe to print on a terminal: C0 controls (newline and tab too), DEL, C1 controls (U+0080..U+009F)
// and bytes that are not UTF-8 become \xNN (a C1 control as its two UTF-8 bytes); other text is unchanged.
std::string escapeControls(std::string_view text);

} // namespace mfx::safetensors
