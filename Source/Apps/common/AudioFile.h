#pragma once
// Reading and writing audio files with libsndfile: RAII reader/writer over interleaved float frames,
// and the mapping between command-line names (--format, --bit-depth), file extensions and
// libsndfile's SF_FORMAT_* major formats and subtypes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sf_private_tag; // libsndfile's SNDFILE, kept out of this header

namespace mfx::apps {

// One writable container/codec, as named on the command line.
struct FormatInfo {
    std::string name;                    // "wav", "flac", "ogg", ...
    int major = 0;                       // SF_FORMAT_WAV, ...
    int codec = 0;                       // lossy formats: the one subtype (SF_FORMAT_VORBIS, ...); else 0
    std::vector<std::string> extensions; // lower case with dot, first = the one used for new names
    bool lossy() const { return codec != 0; }
};

const std::vector<FormatInfo>& knownFormats();
std::string knownFormatNames(); // "wav, aiff, flac, ..." for messages and help
const FormatInfo* findFormatByName(std::string_view name);
const FormatInfo* findFormatByExtension(const std::filesystem::path& path); // by path.extension()
const FormatInfo* findFormatByMajor(int major, int subtype);
// True when the extension is one libsndfile reads (used to tell "broken audio file" from "not audio").
bool hasAudioExtension(const std::filesystem::path& path);

// --bit-depth values. Same = keep the input's sample format where the output format can store it.
enum class BitDepth { Same, Pcm16, Pcm24, Pcm32, Float, Double };
std::optional<BitDepth> parseBitDepth(std::string_view text); // "16" | "24" | "32" | "float" | "double"

// "WAV 24-bit", "FLAC 16-bit", "OGG Vorbis", "WAV float" for a full SF_FORMAT value.
std::string describeFormat(int sfFormat);

// The full SF_FORMAT value (major | subtype) for an output. `requested` is --format (or the format
// implied by -o's extension), nullptr to keep the input's container. Throws UsageError when the
// combination cannot be written; `note` explains any substitution (e.g. float input to FLAC).
int chooseOutputFormat(const FormatInfo* requested, BitDepth bitDepth, int inputFormat, int channels,
                       int sampleRate, std::string& note);
// Throws chooseOutputFormat's UsageError when --bit-depth cannot apply to `format` whatever the file:
// a lossy format, or a container that cannot store those samples (FLAC float). For the options alone,
// checked before any file; what fails only for some files (channels, rate) is those files' error.
void checkBitDepthFor(const FormatInfo& format, BitDepth bitDepth);

// True for outputs stored as integers or lossy codecs, where samples beyond +-1 clip.
bool formatClips(int sfFormat);
// Whether the container of `sfFormat` can hold float samples (WAV, AIFF, CAF: yes; FLAC and the lossy
// codecs: no), and the advice for an output that clipped, fitting its container.
bool containerStoresFloat(int sfFormat);
std::string clippingAdvice(int sfFormat);

struct AudioInfo {
    std::int64_t frames = 0; // as reported by the file's header
    int channels = 0;
    int sampleRate = 0;
    int format = 0; // SF_FORMAT major | subtype
    double seconds() const { return sampleRate > 0 ? static_cast<double>(frames) / sampleRate : 0.0; }
};

// Opens a file for reading; throws Failure "cannot read <file>: <libsndfile's reason>".
class AudioReader {
public:
    explicit AudioReader(const std::filesystem::path& path);
    ~AudioReader();
    AudioReader(const AudioReader&) = delete;
    AudioReader& operator=(const AudioReader&) = delete;

    const AudioInfo& info() const { return info_; }
    // Non-empty for a file whose header promises more audio than the file holds (a copy or a recording
    // cut short): "its header promises 3.00 s, 0.35 s are there". libsndfile reads what is there.
    const std::string& truncation() const { return truncation_; }
    // Reads up to `frames` interleaved frames, samples scaled to +-1; returns the count, 0 at the end.
    // Throws Failure on a read error.
    std::size_t read(float* interleaved, std::size_t frames);

private:
    std::filesystem::path path_;
    sf_private_tag* file_ = nullptr;
    AudioInfo info_;
    std::string truncation_;
};

// Creates a file for writing (clipping instead of wrapping for integer formats). Throws Failure.
class AudioWriter {
public:
    AudioWriter(const std::filesystem::path& path, int sfFormat, int channels, int sampleRate);
    ~AudioWriter();
    AudioWriter(const AudioWriter&) = delete;
    AudioWriter& operator=(const AudioWriter&) = delete;

    void write(const float* interleaved, std::size_t frames); // throws Failure on a write error
    void close();                                            // flushes; throws Failure on error

private:
    std::filesystem::path path_;
    sf_private_tag* file_ = nullptr;
};

// Whole-file helpers (tests, small tools): interleaved samples.
struct AudioData {
    AudioInfo info;
    std::vector<float> samples; // (frames, channels)
};
AudioData readAudioFile(const std::filesystem::path& path);
void writeAudioFile(const std::filesystem::path& path, const std::vector<float>& interleaved, int channels,
                    int sampleRate, int sfFormat);

} // namespace mfx::apps
