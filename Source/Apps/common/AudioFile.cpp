// libsndfile reading/writing and the --format / --bit-depth mapping.
#include "AudioFile.h"

#include "Errors.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace mfx::apps {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string quoted(const fs::path& path) {
    std::string q(1, '\'');
    q.append(path.string()).push_back('\'');
    return q;
}

bool canWrite(int format, int channels, int sampleRate) {
    SF_INFO info{};
    info.format = format;
    info.channels = channels;
    info.samplerate = sampleRate;
    return sf_format_check(&info) != 0;
}

int subtypeFor(BitDepth depth) {
    switch (depth) {
    case BitDepth::Pcm16: return SF_FORMAT_PCM_16;
    case BitDepth::Pcm24: return SF_FORMAT_PCM_24;
    case BitDepth::Pcm32: return SF_FORMAT_PCM_32;
    case BitDepth::Float: return SF_FORMAT_FLOAT;
    case BitDepth::Double: return SF_FORMAT_DOUBLE;
    case BitDepth::Same: break;
    }
    return 0;
}

const char* bitDepthName(BitDepth depth) {
    switch (depth) {
    case BitDepth::Pcm16: return "16";
    case BitDepth::Pcm24: return "24";
    case BitDepth::Pcm32: return "32";
    case BitDepth::Float: return "float";
    case BitDepth::Double: return "double";
    case BitDepth::Same: break;
    }
    return "same";
}

std::string majorName(int major) {
    for (const auto& f : knownFormats())
        if (f.major == major) return f.name == "ogg" || f.name == "opus" ? std::string("OGG") : lower(f.name);
    SF_FORMAT_INFO info{};
    info.format = major;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) == 0 && info.name) return info.name;
    return "format 0x" + std::to_string(major);
}

} // namespace

const std::vector<FormatInfo>& knownFormats() {
    static const std::vector<FormatInfo> formats = {
        {"wav", SF_FORMAT_WAV, 0, {".wav", ".wave"}},
        {"aiff", SF_FORMAT_AIFF, 0, {".aiff", ".aif", ".aifc"}},
        {"flac", SF_FORMAT_FLAC, 0, {".flac"}},
        {"ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS, {".ogg", ".oga"}},
        {"opus", SF_FORMAT_OGG, SF_FORMAT_OPUS, {".opus"}},
        {"mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III, {".mp3"}},
        {"caf", SF_FORMAT_CAF, 0, {".caf"}},
        {"w64", SF_FORMAT_W64, 0, {".w64"}},
        {"rf64", SF_FORMAT_RF64, 0, {".rf64"}},
        {"au", SF_FORMAT_AU, 0, {".au", ".snd"}},
    };
    return formats;
}

std::string knownFormatNames() {
    std::string names;
    for (const auto& f : knownFormats()) names += (names.empty() ? "" : ", ") + f.name;
    return names;
}

const FormatInfo* findFormatByName(std::string_view name) {
    const std::string n = lower(std::string(name));
    for (const auto& f : knownFormats())
        if (f.name == n) return &f;
    if (n == "aif") return findFormatByName("aiff");
    if (n == "vorbis") return findFormatByName("ogg");
    return nullptr;
}

const FormatInfo* findFormatByExtension(const fs::path& path) {
    const std::string ext = lower(path.extension().string());
    if (ext.empty()) return nullptr;
    for (const auto& f : knownFormats())
        if (std::find(f.extensions.begin(), f.extensions.end(), ext) != f.extensions.end()) return &f;
    return nullptr;
}

const FormatInfo* findFormatByMajor(int major, int subtype) {
    for (const auto& f : knownFormats())
        if (f.major == major && (f.codec == 0 || f.codec == subtype)) return &f;
    return nullptr;
}

bool hasAudioExtension(const fs::path& path) {
    if (findFormatByExtension(path) != nullptr) return true;
    const std::string ext = lower(path.extension().string());
    if (ext.size() < 2) return false;
    // Everything else libsndfile knows (voc, sd2, paf, nist, ...), by its own list.
    int count = 0;
    sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof(count));
    for (int i = 0; i < count; ++i) {
        SF_FORMAT_INFO info{};
        info.format = i;
        if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &info, sizeof(info)) == 0 && info.extension != nullptr &&
            ext.substr(1) == lower(info.extension) && ext != ".raw")
            return true;
    }
    return ext == ".mp2" || ext == ".mp1";
}

std::optional<BitDepth> parseBitDepth(std::string_view text) {
    const std::string t = lower(std::string(text));
    if (t == "16") return BitDepth::Pcm16;
    if (t == "24") return BitDepth::Pcm24;
    if (t == "32") return BitDepth::Pcm32;
    if (t == "float" || t == "32f" || t == "float32") return BitDepth::Float;
    if (t == "double" || t == "64f" || t == "float64") return BitDepth::Double;
    return std::nullopt;
}

std::string describeFormat(int sfFormat) {
    const int major = sfFormat & SF_FORMAT_TYPEMASK;
    const int subtype = sfFormat & SF_FORMAT_SUBMASK;
    std::string container = majorName(major);
    std::transform(container.begin(), container.end(), container.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    switch (subtype) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8: return container + " 8-bit";
    case SF_FORMAT_PCM_16: return container + " 16-bit";
    case SF_FORMAT_PCM_24: return container + " 24-bit";
    case SF_FORMAT_PCM_32: return container + " 32-bit";
    case SF_FORMAT_FLOAT: return container + " float";
    case SF_FORMAT_DOUBLE: return container + " double";
    case SF_FORMAT_VORBIS: return container + " Vorbis";
    case SF_FORMAT_OPUS: return container + " Opus";
    case SF_FORMAT_MPEG_LAYER_III: return "MP3";
    default: break;
    }
    SF_FORMAT_INFO info{};
    info.format = subtype;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) == 0 && info.name) return container + " " + info.name;
    return container;
}

int chooseOutputFormat(const FormatInfo* requested, BitDepth bitDepth, int inputFormat, int channels,
                       int sampleRate, std::string& note) {
    note.clear();
    const int inMajor = inputFormat & SF_FORMAT_TYPEMASK;
    const int inSubtype = inputFormat & SF_FORMAT_SUBMASK;
    const FormatInfo* inInfo = findFormatByMajor(inMajor, inSubtype);
    const int major = requested ? requested->major : inMajor;
    const std::string name = requested ? requested->name : (inInfo ? inInfo->name : majorName(inMajor));

    const bool lossy = requested ? requested->lossy() : (inInfo ? inInfo->lossy() : false);
    if (lossy) {
        if (bitDepth != BitDepth::Same)
            throw UsageError(std::string("--bit-depth does not apply to ") + name +
                             " (a lossy format); leave it out or choose a lossless --format such as wav or flac");
        const int format = major | (requested ? requested->codec : inSubtype);
        // libsndfile's format check accepts any rate for Opus, whose encoder then refuses at write time
        const bool opusRate = sampleRate == 8000 || sampleRate == 12000 || sampleRate == 16000 || sampleRate == 24000 ||
                              sampleRate == 48000;
        if ((format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS && !opusRate)
            throw UsageError("Opus stores audio at 8, 12, 16, 24 or 48 kHz only, not " + std::to_string(sampleRate) +
                             " Hz; choose another --format (ogg, mp3, flac, ...) or resample the file first");
        if (!canWrite(format, channels, sampleRate))
            throw UsageError("this libsndfile cannot write " + describeFormat(format) + " with " +
                             std::to_string(channels) + " channel(s) at " + std::to_string(sampleRate) +
                             " Hz; choose another --format (" + knownFormatNames() + ")");
        return format;
    }

    if (bitDepth != BitDepth::Same) {
        const int format = major | subtypeFor(bitDepth);
        if (canWrite(format, channels, sampleRate)) return format;
        std::string supported;
        for (BitDepth d : {BitDepth::Pcm16, BitDepth::Pcm24, BitDepth::Pcm32, BitDepth::Float, BitDepth::Double})
            if (canWrite(major | subtypeFor(d), channels, sampleRate))
                supported += (supported.empty() ? "" : ", ") + std::string(bitDepthName(d));
        throw UsageError(name + " cannot store --bit-depth " + bitDepthName(bitDepth) +
                         (supported.empty() ? std::string("") : "; it supports " + supported) +
                         (bitDepth == BitDepth::Float || bitDepth == BitDepth::Double
                              ? " (for float samples use --format wav, aiff, caf, w64 or rf64)"
                              : ""));
    }

    // Keep the input's sample format where the container can store it: any subtype in the same
    // container, only plain PCM/float in another (WAV would "accept" an MP3 subtype it cannot write).
    const bool plain = inSubtype == SF_FORMAT_PCM_S8 || inSubtype == SF_FORMAT_PCM_U8 || inSubtype == SF_FORMAT_PCM_16 ||
                       inSubtype == SF_FORMAT_PCM_24 || inSubtype == SF_FORMAT_PCM_32 || inSubtype == SF_FORMAT_FLOAT ||
                       inSubtype == SF_FORMAT_DOUBLE;
    if ((plain || major == inMajor) && canWrite(major | inSubtype, channels, sampleRate)) return major | inSubtype;
    for (int subtype : {SF_FORMAT_PCM_24, SF_FORMAT_PCM_16}) {
        if (canWrite(major | subtype, channels, sampleRate)) {
            note = name + " cannot store " + describeFormat(inputFormat) + " samples; writing " +
                   describeFormat(major | subtype) + " (choose with --bit-depth)";
            return major | subtype;
        }
    }
    throw UsageError("this libsndfile cannot write " + name + " with " + std::to_string(channels) + " channel(s) at " +
                     std::to_string(sampleRate) + " Hz; choose another --format (" + knownFormatNames() + ")");
}

void checkBitDepthFor(const FormatInfo& format, BitDepth bitDepth) {
    if (bitDepth == BitDepth::Same) return;
    std::string note;
    // A plain mono 48 kHz 16-bit file: whatever still fails for it is the options' fault.
    chooseOutputFormat(&format, bitDepth, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 48000, note);
}

bool formatClips(int sfFormat) {
    const int subtype = sfFormat & SF_FORMAT_SUBMASK;
    return subtype != SF_FORMAT_FLOAT && subtype != SF_FORMAT_DOUBLE;
}

bool containerStoresFloat(int sfFormat) {
    SF_INFO probe{};
    probe.format = (sfFormat & SF_FORMAT_TYPEMASK) | SF_FORMAT_FLOAT;
    probe.channels = 1;
    probe.samplerate = 48000;
    return sf_format_check(&probe) != 0;
}

std::string clippingAdvice(int sfFormat) {
    if (containerStoresFloat(sfFormat)) return "lower --output-gain or write --bit-depth float";
    return "lower --output-gain, or write a format that stores float samples (--format wav --bit-depth float)";
}

// ---- AudioReader -----------------------------------------------------------------------------

AudioReader::AudioReader(const fs::path& path) : path_(path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw Failure("cannot read " + quoted(path) + ": it is a folder");
    SF_INFO info{};
    file_ = sf_open(path.c_str(), SFM_READ, &info);
    if (file_ == nullptr) {
        std::string reason = sf_strerror(nullptr);
        if (!fs::exists(path, ec)) reason = "no such file";
        throw Failure("cannot read " + quoted(path) + ": " + reason);
    }
    if (info.channels < 1 || info.samplerate < 1) {
        sf_close(file_);
        file_ = nullptr;
        throw Failure("cannot read " + quoted(path) + ": it reports " + std::to_string(info.channels) + " channels at " +
                      std::to_string(info.samplerate) + " Hz");
    }
    info_.frames = info.frames;
    info_.channels = info.channels;
    info_.sampleRate = info.samplerate;
    info_.format = info.format;
    // libsndfile notes a data chunk larger than the file in its log ("data : 432000 (should be
    // 49920)") and reads what is there; the promised bytes over the bytes per frame give the length
    // the header promised.
    char log[4096] = {};
    sf_command(file_, SFC_GET_LOG_INFO, log, sizeof log);
    long long promised = 0, present = 0;
    if (const char* d = std::strstr(log, "\ndata : "); d && std::sscanf(d, "\ndata : %lld (should be %lld)", &promised, &present) == 2 &&
        present >= 0 && present < promised) {
        int bytes = 0; // per sample, for the uncompressed subtypes
        switch (info_.format & SF_FORMAT_SUBMASK) {
        case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: case SF_FORMAT_ULAW: case SF_FORMAT_ALAW: bytes = 1; break;
        case SF_FORMAT_PCM_16: bytes = 2; break;
        case SF_FORMAT_PCM_24: bytes = 3; break;
        case SF_FORMAT_PCM_32: case SF_FORMAT_FLOAT: bytes = 4; break;
        case SF_FORMAT_DOUBLE: bytes = 8; break;
        default: break;
        }
        char buf[160];
        if (bytes > 0)
            std::snprintf(buf, sizeof buf, "the file is cut short: its header promises %.2f s, %.2f s are there",
                          static_cast<double>(promised) / (bytes * info_.channels) / info_.sampleRate, info_.seconds());
        else
            std::snprintf(buf, sizeof buf, "the file is cut short: its header promises %lld bytes of audio, %lld are there", promised, present);
        truncation_ = buf;
    }
}

AudioReader::~AudioReader() {
    if (file_ != nullptr) sf_close(file_);
}

std::size_t AudioReader::read(float* interleaved, std::size_t frames) {
    const sf_count_t got = sf_readf_float(file_, interleaved, static_cast<sf_count_t>(frames));
    if (got < 0 || (got < static_cast<sf_count_t>(frames) && sf_error(file_) != SF_ERR_NO_ERROR))
        throw Failure("error reading " + quoted(path_) + ": " + sf_strerror(file_));
    return static_cast<std::size_t>(got);
}

// ---- AudioWriter -----------------------------------------------------------------------------

AudioWriter::AudioWriter(const fs::path& path, int sfFormat, int channels, int sampleRate) : path_(path) {
    SF_INFO info{};
    info.format = sfFormat;
    info.channels = channels;
    info.samplerate = sampleRate;
    file_ = sf_open(path.c_str(), SFM_WRITE, &info);
    if (file_ == nullptr)
        throw Failure("cannot write " + quoted(path) + " as " + describeFormat(sfFormat) + ": " + sf_strerror(nullptr));
    sf_command(file_, SFC_SET_CLIPPING, nullptr, SF_TRUE); // clip, never wrap around, beyond +-1
}

AudioWriter::~AudioWriter() {
    if (file_ != nullptr) sf_close(file_);
}

void AudioWriter::write(const float* interleaved, std::size_t frames) {
    if (frames == 0) return;
    const sf_count_t put = sf_writef_float(file_, interleaved, static_cast<sf_count_t>(frames));
    if (put != static_cast<sf_count_t>(frames))
        throw Failure("error writing " + quoted(path_) + ": " + sf_strerror(file_));
}

void AudioWriter::close() {
    if (file_ == nullptr) return;
    sf_write_sync(file_);
    const int error = sf_error(file_);
    const std::string reason = error != SF_ERR_NO_ERROR ? sf_strerror(file_) : "";
    const int closeError = sf_close(file_);
    file_ = nullptr;
    if (error != SF_ERR_NO_ERROR || closeError != 0)
        throw Failure("error finishing " + quoted(path_) + ": " + (reason.empty() ? sf_error_number(closeError) : reason));
}

// ---- whole files -----------------------------------------------------------------------------

AudioData readAudioFile(const fs::path& path) {
    AudioReader reader(path);
    AudioData data;
    data.info = reader.info();
    const std::size_t ch = static_cast<std::size_t>(data.info.channels);
    std::vector<float> block(65536 * ch); // (65536, channels)
    for (;;) {
        const std::size_t got = reader.read(block.data(), 65536);
        if (got == 0) break;
        data.samples.insert(data.samples.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(got * ch));
    }
    data.info.frames = static_cast<std::int64_t>(data.samples.size() / ch);
    return data;
}

void writeAudioFile(const fs::path& path, const std::vector<float>& interleaved, int channels, int sampleRate,
                    int sfFormat) {
    AudioWriter writer(path, sfFormat, channels, sampleRate);
    writer.write(interleaved.data(), interleaved.size() / static_cast<std::size_t>(channels));
    writer.close();
}

} // namespace mfx::apps
