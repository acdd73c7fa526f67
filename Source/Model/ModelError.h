#pragma once
// Errors raised while loading, validating or preparing a model. Never thrown on the audio thread:
// every check happens at load/prepare time, the processing functions are noexcept.
#include <stdexcept>
#include <string>

namespace mfx {

struct ModelError : std::runtime_error {
    explicit ModelError(const std::string& what) : std::runtime_error(what) {}
};

} // namespace mfx
