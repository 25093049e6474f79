#pragma once
// HAProxy's two-character session termination state (manual 8.5).

namespace sluice::proxy {

// First character: what ended the session.
enum class TermCause : char {
  None = '-',  // normal completion
  ClientAbort = 'C',
  ServerAbort = 'S',  // also: server refused / no server
  ProxyAbort = 'P',
  Resource = 'R',
  Internal = 'I',
  Down = 'D',
  Killed = 'K',
  Local = 'L',  // answered by the proxy itself (redirect, return)
  ClientTimeout = 'c',
  ServerTimeout = 's',
};

// Second character: where the session was when it ended.
enum class TermPhase : char {
  None = '-',
  Request = 'R',
  Queue = 'Q',
  Connect = 'C',
  Headers = 'H',
  Data = 'D',
  LastData = 'L',
  Tarpit = 'T',
};

struct Termination {
  TermCause cause = TermCause::None;
  TermPhase phase = TermPhase::None;
  void set(TermCause c, TermPhase p) {
    if (cause == TermCause::None) {  // the first event wins
      cause = c;
      phase = p;
    }
  }
  char first() const { return static_cast<char>(cause); }
  char second() const { return static_cast<char>(phase); }
};

}  // namespace sluice::proxy
