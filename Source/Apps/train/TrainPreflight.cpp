// Output-folder, option and metadata-text checks of `mambafx train`, made before any training.
#include "TrainPreflight.h"

#include <common/Errors.h>
#include <common/PendingOutput.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>

namespace mfx::apps::train {

namespace fs = std::filesystem;

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i], 0 if none does (Unicode table 3-7).
std::size_t sequenceLength(std::string_view s, std::size_t i) {
    const auto at = [&](std::size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100u; };
    const auto in = [](unsigned v, unsigned lo, unsigned hi) { return v >= lo && v <= hi; };
    const unsigned c = at(0);
    const bool t1 = in(at(1), 0x80, 0xBF), t2 = in(at(2), 0x80, 0xBF), t3 = in(at(3), 0x80, 0xBF);
    if (c < 0x80) return 1;
    if (in(c, 0xC2, 0xDF)) return t1 ? 2 : 0;
    if (c == 0xE0) return in(at(1), 0xA0, 0xBF) && t2 ? 3 : 0;
    if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) return t1 && t2 ? 3 : 0;
    if (c == 0xED) return in(at(1), 0x80, 0x9F) && t2 ? 3 : 0; // not the surrogates D800..DFFF
    if (c == 0xF0) return in(at(1), 0x90, 0xBF) && t2 && t3 ? 4 : 0;
    if (in(c, 0xF1, 0xF3)) return t1 && t2 && t3 ? 4 : 0;
    if (c == 0xF4) return in(at(1), 0x80, 0x8F) && t2 && t3 ? 4 : 0; // up to U+10FFFF
    return 0;
}


} // namespace

std::size_t invalidUtf8At(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = sequenceLength(s, i);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

void checkMetadataTexts(const std::vector<MetadataText>& texts) {
    for (const auto& t : texts) {
        const std::size_t bad = invalidUtf8At(t.value);
        if (bad == std::string_view::npos) continue;
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(t.value[bad]));
        throw UsageError(t.origin + " is not valid UTF-8 text ('" + utf8Escaped(t.value) + "': byte " + byte + " at offset " +
                         std::to_string(bad) + "), and the model file stores its metadata as UTF-8; write it in UTF-8");
    }
}

void checkOutputFolder(const fs::path& output, const std::vector<fs::path>& sideFiles) {
    const fs::path folder = output.has_parent_path() ? output.parent_path() : fs::path(".");
    std::error_code ec;
    const fs::file_status st = fs::status(folder, ec);
    if (!fs::exists(st))
        throw Failure("-o " + output.string() + ": the folder " + folder.string() + " does not exist; create it first (mkdir -p " +
                      folder.string() + ") or write the model elsewhere");
    if (!fs::is_directory(st))
        throw Failure("-o " + output.string() + ": " + folder.string() + " is not a folder; write the model into an existing folder");
    if (fs::is_directory(output))
        throw Failure("-o " + output.string() + " is a folder; name the .safetensors file to write, e.g. " +
                      (output / "model.safetensors").string());
    for (const auto& p : sideFiles)
        if (fs::is_directory(p))
            throw Failure(p.string() + " is a folder, where the training writes its checkpoint; move it away or choose another -o");
    // Writable: create and remove a file under the name the model's own temporary file would have.
    const fs::path probe = PendingOutput::tempPathFor(output);
    errno = 0;
    bool created = false;
    {
        std::ofstream f(probe, std::ios::binary | std::ios::trunc);
        created = static_cast<bool>(f);
    }
    const int err = errno;
    fs::remove(probe, ec);
    if (!created)
        throw Failure("-o " + output.string() + ": cannot create files in the folder " + folder.string() + " (" +
                      (err ? std::strerror(err) : "reason unknown") + "); make it writable or write the model elsewhere");
}

void checkOutputFiles(const std::filesystem::path& out, const std::filesystem::path& ckptPath, bool resume, bool overwrite) {
    namespace fs = std::filesystem;
    if (fs::is_directory(out))
        throw UsageError(out.string() + " is a folder; -o names the model file to write, e.g. " + (out / "my-amp.safetensors").string());
    if (resume && overwrite)
        throw UsageError("--resume and --overwrite contradict each other (continue the run, or start again); keep one");
    if (fs::exists(out) && !resume && !overwrite)
        throw UsageError(out.string() + " exists; pass --overwrite to replace it, or --resume to continue its training");
    // A checkpoint without its model is what a run stopped before its first epoch ended leaves (Ctrl-C).
    if (fs::exists(ckptPath) && !resume && !overwrite)
        throw UsageError(ckptPath.string() + " exists (the checkpoint of an earlier run, e.g. one stopped with Ctrl-C); pass --resume "
                         "to continue that run, or --overwrite to start again and replace it");
    if (resume && !fs::exists(ckptPath))
        throw UsageError("--resume: there is no checkpoint " + ckptPath.string() +
                         " to continue (it is written during training, at every epoch and on Ctrl-C); start without --resume");
}

void checkTrainOptions(const std::string& device, int batch, std::size_t segment, const std::vector<int>& stftSizes,
                       double stftWeight) {
    static const std::regex deviceSyntax("auto|cpu|cuda(:[0-9]+)?");
    if (!std::regex_match(device, deviceSyntax)) throw UsageError("--device " + device + " is not known; use auto, cpu, cuda or cuda:N");
    if (batch < 1 || segment < 64) throw UsageError("--batch must be >= 1 and --segment >= 64");
    for (int n : stftSizes)
        if (n < 16 || n > 65536 || (n & (n - 1)) != 0)
            throw UsageError("--stft-sizes: " + std::to_string(n) + " is not a power of two between 16 and 65536");
    if (stftWeight < 0) throw UsageError("--stft-weight must be 0 (off) or positive");
}

std::string utf8Escaped(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = sequenceLength(s, i);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02X", static_cast<unsigned char>(s[i]));
            out += b;
            ++i;
        }
    }
    return out;
}

} // namespace mfx::apps::train
