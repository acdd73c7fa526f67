#include "DeviceChoice.h"

#include "LiveOptions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace mfx::live {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool isIndex(const std::string& s) {
    return !s.empty() && s.size() < 6 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

unsigned channelsFor(const DeviceDescription& d, Direction dir) {
    return dir == Direction::Input ? d.inputChannels : d.outputChannels;
}

const char* dirName(Direction dir) { return dir == Direction::Input ? "input" : "output"; }

std::string deviceNames(const ApiDescription& api, Direction dir) {
    std::ostringstream s;
    bool any = false;
    for (const auto& d : api.devices) {
        if (channelsFor(d, dir) == 0) continue;
        s << (any ? ", " : "") << '[' << d.id << "] '" << d.name << "' (" << channelsFor(d, dir) << " ch)";
        any = true;
    }
    return any ? s.str() : std::string("none");
}

std::string ratesText(const std::vector<unsigned>& rates) {
    std::ostringstream s;
    for (size_t i = 0; i < rates.size(); ++i) s << (i ? ", " : "") << rates[i];
    return s.str();
}

bool isJack(const std::string& apiName) { return lower(apiName) == "jack"; }

} // namespace

const ApiDescription& chooseApi(const std::vector<ApiDescription>& apis, const std::string& requested) {
    std::string compiled;
    for (const auto& a : apis) compiled += (compiled.empty() ? "" : ", ") + a.name;
    if (apis.empty())
        throw LiveError("no audio API available: this build of RtAudio has none compiled in "
                        "(install Debian's librtaudio-dev, which has JACK, ALSA and PulseAudio)");
    if (!requested.empty()) {
        const std::string want = lower(requested);
        for (const auto& a : apis) {
            if (lower(a.name) != want && lower(a.displayName) != want) continue;
            if (a.devices.empty()) {
                std::string msg = "audio API '" + a.name + "' has no devices";
                if (!a.problem.empty()) msg += ": " + a.problem;
                if (isJack(a.name))
                    msg += "; start a JACK server first (e.g. `jackd -d alsa -r 48000 -p 64`, or `jackd -d dummy` to test"
                           " without hardware), or choose another API with --api";
                else
                    msg += "; choose another API with --api (see `mambafx live --list`)";
                throw LiveError(msg);
            }
            return a;
        }
        throw LiveError("unknown audio API '" + requested + "'; compiled in: " + compiled);
    }
    for (const auto& a : apis)
        if (!a.devices.empty()) return a;
    std::string why;
    for (const auto& a : apis) why += "; " + a.name + ": " + (a.problem.empty() ? "no devices" : a.problem);
    throw LiveError("no audio API available (" + compiled + " compiled in, none has a device" + why +
                    "). Start a JACK server (`jackd -d alsa` or `jackd -d dummy`), or check that a sound card is present");
}

const DeviceDescription& resolveDevice(const ApiDescription& api, const std::string& spec, Direction dir, int channels) {
    const DeviceDescription* found = nullptr;
    if (spec.empty()) {
        for (const auto& d : api.devices)
            if ((dir == Direction::Input ? d.isDefaultInput : d.isDefaultOutput) && channelsFor(d, dir) > 0) found = &d;
        if (!found)
            for (const auto& d : api.devices)
                if (channelsFor(d, dir) >= static_cast<unsigned>(channels)) { found = &d; break; }
        if (!found)
            throw LiveError(std::string("no ") + dirName(dir) + " device with " + std::to_string(channels) +
                            " channel(s) on " + api.name + "; devices: " + deviceNames(api, dir) +
                            ". Choose fewer channels with --" + dirName(dir) + "-channels");
    } else if (isIndex(spec)) {
        const unsigned id = static_cast<unsigned>(std::stoul(spec));
        for (const auto& d : api.devices)
            if (d.id == id) found = &d;
        if (!found)
            throw LiveError(std::string("no such ") + dirName(dir) + " device: index " + spec + " on " + api.name +
                            "; " + dirName(dir) + " devices: " + deviceNames(api, dir) + " (see `mambafx live --list`)");
    } else {
        for (const auto& d : api.devices)
            if (d.name == spec) found = &d;
        if (!found) {
            std::vector<const DeviceDescription*> matches;
            for (const auto& d : api.devices)
                if (lower(d.name).find(lower(spec)) != std::string::npos && channelsFor(d, dir) > 0) matches.push_back(&d);
            if (matches.size() > 1) {
                std::string names;
                for (auto* m : matches) names += (names.empty() ? "'" : ", '") + m->name + "'";
                throw LiveError(std::string("") + dirName(dir) + " device '" + spec + "' is ambiguous on " + api.name +
                                ": it matches " + names + "; give more of the name or the index from --list");
            }
            if (matches.empty())
                throw LiveError(std::string("no such ") + dirName(dir) + " device '" + spec + "' on " + api.name +
                                "; " + dirName(dir) + " devices: " + deviceNames(api, dir) +
                                " (see `mambafx live --list`)");
            found = matches.front();
        }
    }
    const unsigned have = channelsFor(*found, dir);
    if (have < static_cast<unsigned>(channels))
        throw LiveError(std::string("") + dirName(dir) + " device '" + found->name + "' has " + std::to_string(have) +
                        " " + dirName(dir) + " channel(s), " + std::to_string(channels) + " requested; use --" +
                        dirName(dir) + "-channels " + std::to_string(std::max(1u, have)) +
                        (have == 0 ? " with another device" : "") + " or pick another device");
    return *found;
}

unsigned nearestRate(const std::vector<unsigned>& rates, double rate) {
    unsigned best = 0;
    double bestDist = 0.0;
    for (unsigned r : rates) {
        const double d = std::fabs(static_cast<double>(r) - rate);
        if (best == 0 || d < bestDist || (d == bestDist && r > best)) { best = r; bestDist = d; }
    }
    return best;
}

void checkSampleRate(const ApiDescription& api, const DeviceDescription& device, double rate, bool rateGiven) {
    if (device.sampleRates.empty()) return; // unknown: let the open decide
    for (unsigned r : device.sampleRates)
        if (static_cast<double>(r) == rate) return;
    const unsigned nearest = nearestRate(device.sampleRates, rate);
    std::ostringstream s;
    s << "sample rate " << rate << " Hz" << (rateGiven ? "" : " (the model's rate)") << " is not supported by device '"
      << device.name << "' on " << api.name << "; nearest supported: " << nearest << " Hz (supported: "
      << ratesText(device.sampleRates) << ")";
    if (isJack(api.name))
        s << ". JACK runs at the server's rate: leave out --rate to run at " << nearest
          << " Hz (the model is resampled if it is made for another rate), or restart jackd with -r " << rate;
    else
        s << ". Use --rate " << nearest << ", or leave --rate out (the model is resampled if it is made for another rate)";
    throw LiveError(s.str());
}

std::string checkBufferSize(const std::string& apiName, int requested, bool requestedGiven, unsigned actual) {
    if (static_cast<unsigned>(requested) == actual) return "";
    std::ostringstream s;
    if (requestedGiven) {
        s << "buffer size " << requested << " frames is not supported by " << apiName << " here; nearest supported: "
          << actual << " frames";
        if (isJack(apiName))
            s << " (JACK's buffer size is the server's period: use --buffer " << actual << " or restart jackd with -p "
              << requested << ")";
        else
            s << "; use --buffer " << actual;
        throw LiveError(s.str());
    }
    if (actual < static_cast<unsigned>(kMinBufferFrames)) {
        s << apiName << " chose a buffer of " << actual << " frames, below the minimum of " << kMinBufferFrames
          << "; configure the device for a larger period";
        throw LiveError(s.str());
    }
    s << "buffer: " << actual << " frames (" << apiName << " chose it; " << requested << " requested)";
    return s.str();
}

double chooseStreamRate(const ApiDescription& api, const DeviceDescription& input, const DeviceDescription& output,
                        double modelRate, std::string& note) {
    auto supports = [](const DeviceDescription& d, double r) {
        return d.sampleRates.empty() ||
               std::find(d.sampleRates.begin(), d.sampleRates.end(), static_cast<unsigned>(r)) != d.sampleRates.end();
    };
    if (modelRate == std::floor(modelRate) && supports(input, modelRate) && supports(output, modelRate)) return modelRate;
    std::vector<unsigned> common;
    const DeviceDescription& ref = output.sampleRates.empty() ? input : output;
    for (unsigned r : ref.sampleRates)
        if (supports(input, r) && supports(output, r)) common.push_back(r);
    if (common.empty())
        throw LiveError("input device '" + input.name + "' and output device '" + output.name + "' on " + api.name +
                        " have no sample rate in common; pick other devices (see `mambafx live --list`)");
    unsigned chosen = 0;
    if (ref.preferredRate && std::find(common.begin(), common.end(), ref.preferredRate) != common.end())
        chosen = ref.preferredRate;
    else
        chosen = nearestRate(common, modelRate);
    std::ostringstream s;
    s << "the model is made for " << modelRate << " Hz, which " << (isJack(api.name) ? "the JACK server does not run at"
                                                                                   : "the device does not support")
      << "; the stream runs at " << chosen << " Hz and the model at its own rate in between (resampled)";
    note = s.str();
    return chosen;
}

void checkModelRate(const std::string& modelName, double modelRate, double sessionModelRate) {
    if (modelRate == sessionModelRate) return;
    std::ostringstream s;
    s << "model '" << modelName << "' is made for " << modelRate << " Hz, but this session runs its models at "
      << sessionModelRate << " Hz and cannot change that while playing; start a new session with that model (--model)";
    throw LiveError(s.str());
}

std::string formatDeviceList(const std::vector<ApiDescription>& apis) {
    std::ostringstream s;
    if (apis.empty()) return "no audio APIs compiled into RtAudio\n";
    s << "Audio APIs compiled in:";
    for (const auto& a : apis) s << ' ' << a.name << " (" << a.displayName << ')';
    s << '\n';
    for (const auto& a : apis) {
        s << '\n' << a.name << ": ";
        if (a.devices.empty()) {
            s << "no devices" << (a.problem.empty() ? "" : " (" + a.problem + ")") << '\n';
            continue;
        }
        s << a.devices.size() << " device" << (a.devices.size() == 1 ? "" : "s") << '\n';
        for (const auto& d : a.devices) {
            s << "  [" << d.id << "] " << d.name << "\n      in " << d.inputChannels << " ch, out " << d.outputChannels
              << " ch, rates " << (d.sampleRates.empty() ? std::string("unknown") : ratesText(d.sampleRates)) << " Hz";
            if (d.preferredRate) s << " (preferred " << d.preferredRate << ")";
            if (d.isDefaultInput || d.isDefaultOutput)
                s << (d.isDefaultInput && d.isDefaultOutput ? ", default input and output"
                                                            : d.isDefaultInput ? ", default input" : ", default output");
            s << '\n';
        }
    }
    return s.str();
}

} // namespace mfx::live
