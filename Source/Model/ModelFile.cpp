#include "ModelFile.h"
#include "ModelError.h"
#include "Safetensors.h"

#include <bit>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>
#include <unordered_map>

namespace mfx {

namespace {

namespace fs = std::filesystem;
using safetensors::quoteName;
using safetensors::shapeString;

[[noreturn]] void fail(const std::string& source, const std::string& what) { throw ModelError(source + ": " + what); }

std::vector<std::uint64_t> toU64(const std::vector<int>& shape) {
    return std::vector<std::uint64_t>(shape.begin(), shape.end());
}

Config readConfig(const safetensors::Container& c, const std::string& source) {
    if (!c.hasMetadata)
        fail(source, "the header has no __metadata__; a MambaFX model stores its config there "
                     "(metadata={\"config\": ...} when saving, see docs/MODEL_FORMAT.md)");
    auto it = c.metadata.find(meta::config);
    if (it == c.metadata.end())
        fail(source, "__metadata__ has no 'config' entry; add the model config as a JSON string "
                     "(see docs/MODEL_FORMAT.md)");
    try {
        return Config::fromJson(it->second);
    } catch (const ModelError& e) {
        fail(source, std::string("invalid model config in __metadata__: ") + e.what());
    }
}

float readF32LE(const std::uint8_t* p) {
    std::uint32_t u = 0;
    for (int i = 3; i >= 0; --i) u = (u << 8) | p[i];
    return std::bit_cast<float>(u);
}

void copyTensor(const safetensors::Entry& e, std::span<const std::uint8_t> data, std::vector<float>& out) {
    // The entry's range was checked against data.size() and against shape * 4 bytes.
    const size_t count = static_cast<size_t>((e.end - e.begin) / 4);
    out.resize(count);
    const std::uint8_t* src = data.data() + e.begin;
    if constexpr (std::endian::native == std::endian::little) {
        if (count) std::memcpy(out.data(), src, count * 4);
    } else {
        for (size_t i = 0; i < count; ++i) out[i] = readF32LE(src + 4 * i);
    }
}

} // namespace

Model parseModel(std::span<const std::uint8_t> bytes, const std::string& sourceName) {
    const std::string& source = sourceName;
    const safetensors::Container file = safetensors::parse(bytes, source, kMaxHeaderBytes);

    Model model;
    model.config = readConfig(file, source);
    const Config& config = model.config;
    model.weights.layers.resize(static_cast<size_t>(config.nLayers)); // tensors sized only once checked
    const std::vector<TensorRef> table = tensorTable(config, model.weights);
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < table.size(); ++i) index.emplace(table[i].name, i);

    std::vector<const safetensors::Entry*> found(table.size(), nullptr);
    for (const auto& e : file.entries) {
        auto it = index.find(e.name);
        if (it == index.end())
            fail(source, "unknown tensor " + quoteName(e.name) + "; a MambaFX model with this config (" +
                             std::to_string(config.nLayers) +
                             " layers) has no such tensor (see docs/MODEL_FORMAT.md for the names)");
        const TensorRef& t = table[it->second];
        found[it->second] = &e;
        if (e.dtype != "F32")
            fail(source, "tensor " + quoteName(e.name) + " has dtype " + quoteName(e.dtype) +
                             " but MambaFX reads only F32; convert with tensor.float() before saving");
        const auto expected = toU64(t.shape);
        if (e.shape != expected)
            fail(source, "tensor " + quoteName(e.name) + " has shape " + shapeString(e.shape) + " but the config (" +
                             config.toJson() + ") expects shape " + shapeString(expected));
        std::uint64_t bytesNeeded = 4;
        for (auto d : expected) bytesNeeded *= d;
        if (e.end - e.begin != bytesNeeded)
            fail(source, "tensor " + quoteName(e.name) + " has data_offsets spanning " +
                             std::to_string(e.end - e.begin) + " bytes but its F32 shape " + shapeString(expected) +
                             " needs " + std::to_string(bytesNeeded) + " bytes");
    }
    for (size_t i = 0; i < table.size(); ++i)
        if (!found[i])
            fail(source, "missing tensor " + quoteName(table[i].name) + " (shape " + shapeString(toU64(table[i].shape)) +
                             ") required by the config " + config.toJson());

    for (size_t i = 0; i < table.size(); ++i) {
        std::vector<float>& values = *table[i].data;
        copyTensor(*found[i], file.data, values);
        for (size_t k = 0; k < values.size(); ++k)
            if (!std::isfinite(values[k]))
                fail(source, "tensor " + quoteName(table[i].name) + " has a non-finite value (" +
                                 (std::isnan(values[k]) ? "nan" : values[k] > 0 ? "inf" : "-inf") + ") at index " +
                                 std::to_string(k) + "; training diverged or the file is corrupt");
    }

    // The config lives in model.config; metadata keeps every other key (serializeModel writes config anew).
    for (const auto& [key, value] : file.metadata)
        if (key != meta::config) model.metadata.emplace(key, value);
    model.validate(); // belt and braces: sizes and values were checked above
    return model;
}

Model loadModel(const std::string& path) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found)
        throw ModelError(path + ": cannot open the model file: it does not exist (check the path)");
    if (ec) // a symlink loop, a permission problem on a folder on the way, ...
        throw ModelError(path + ": cannot open the model file (" + ec.message() + ")");
    if (fs::is_directory(status)) throw ModelError(path + ": is a directory, not a model file");
    if (!fs::is_regular_file(status)) // a device, FIFO or socket: opening or reading it could block forever
        throw ModelError(path + ": is not a regular file (a device, FIFO or socket), not a model file");
    const auto size = fs::file_size(path, ec);
    if (ec) throw ModelError(path + ": cannot read the model file (" + ec.message() + ")");
    if (size > kMaxModelFileBytes)
        throw ModelError(path + ": the file is " + std::to_string(size) + " bytes, more than the " +
                         std::to_string(kMaxModelFileBytes) + "-byte limit for a model; is this really a model?");

    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError(path + ": cannot open the model file (permission denied or unreadable)");
    std::vector<std::uint8_t> bytes(static_cast<size_t>(size));
    if (size) in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (!in || in.gcount() != static_cast<std::streamsize>(size))
        throw ModelError(path + ": could not read the whole model file (it changed while reading or the read failed)");
    try {
        return parseModel(bytes, path);
    } catch (const ModelError& e) {
        // `mambafx train` writes MODEL.safetensors.ckpt (and .ckpt.json) beside the model: say so,
        // when the file is one (its magic, or the run state's key; not any other program's .ckpt)
        const std::string name = fs::path(path).filename().string();
        const auto ends = [&](const std::string& s) { return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
        const std::string head(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(bytes.size(), 4096)));
        const bool checkpoint = ends(".ckpt") && head.rfind("MFXCKPT1", 0) == 0; // Trainer.cpp's kMagic
        const bool runState = ends(".ckpt.json") && head.find("\"best_validation_esr\"") != std::string::npos;
        if (checkpoint || runState)
            throw ModelError(path + ": this is a training checkpoint of `mambafx train`, not a model; use the model it "
                             "belongs to (the same name without .ckpt" + std::string(ends(".ckpt.json") ? ".json" : "") + ")");
        throw;
    }
}

std::vector<std::uint8_t> serializeModel(const Model& model) {
    try {
        model.validate();
    } catch (const ModelError& e) {
        throw ModelError(std::string("cannot save an invalid model: ") + e.what());
    }
    Metadata metadata = model.metadata;
    metadata[meta::config] = model.config.toJson(); // the config fields are the truth, not a stale string

    std::vector<safetensors::OutTensor> out;
    for (const TensorRef& t : tensorTable(model.config, model.weights))
        out.push_back({t.name, t.shape, std::span<const float>(*t.data)});
    return safetensors::write(metadata, out);
}

void saveModel(const Model& model, const std::string& path) {
    const std::vector<std::uint8_t> bytes = serializeModel(model);

    std::random_device rd;
    const std::string tmp = path + ".tmp-" + std::to_string(rd() % 1000000u);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw ModelError(path + ": cannot create the temporary file " + tmp + " (is the folder writable?)");
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            fs::remove(tmp, ignored);
            throw ModelError(path + ": writing the model failed (disk full?)");
        }
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw ModelError(path + ": cannot move the saved model into place (" + ec.message() + ")");
    }
}

} // namespace mfx
