#pragma once
// Checks `mambafx train` makes before it reads any audio, for what would otherwise fail only when the
// first epoch's model or checkpoint is written: the output folder, and the text that goes into the
// model's metadata (a safetensors header is JSON, which holds UTF-8 only).
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mfx::apps::train {

// The folder of `output` exists and a file can be created in it (a probe file is created and
// removed), and neither `output` nor any of `sideFiles` (the checkpoint files) is a folder. Throws
// Failure naming the path and what to do.
void checkOutputFolder(const std::filesystem::path& output, const std::vector<std::filesystem::path>& sideFiles);

struct MetadataText {
    std::string origin; // where the text comes from and how to change it: "--name", "the knob name of a --target"
    std::string value;
};
// Throws UsageError for the first value that is not valid UTF-8, naming its origin and showing the
// value with the bad bytes as \xNN.
void checkMetadataTexts(const std::vector<MetadataText>& texts);

// -o and its checkpoint against --resume / --overwrite, before anything is read: -o must not be a
// folder; an existing model or checkpoint needs --resume or --overwrite (not both); --resume needs the
// checkpoint. Throws UsageError naming the file and the choice to make.
void checkOutputFiles(const std::filesystem::path& output, const std::filesystem::path& checkpoint, bool resume, bool overwrite);

// Options that cannot work, refused (UsageError) before the audio is read and aligned: --device
// syntax, --batch >= 1, --segment >= 64, --stft-sizes powers of two in 16..65536, --stft-weight >= 0.
void checkTrainOptions(const std::string& device, int batch, std::size_t segment, const std::vector<int>& stftSizes,
                       double stftWeight);

// `s` with every byte that is not part of a well-formed UTF-8 sequence written as the text \xNN
// (valid UTF-8 for the metadata; a file name in another encoding stays recognisable).
std::string utf8Escaped(std::string_view s);

// Offset of the first byte of `s` that does not begin a well-formed UTF-8 sequence (Unicode table
// 3-7: no overlong forms, surrogates, or code points above U+10FFFF), or npos when `s` is valid.
std::size_t invalidUtf8At(std::string_view s);

} // namespace mfx::apps::train
