import AnyLLM

func libraryVersion() -> String { String(cString: anyllm_version()) }

func helpText() -> String {
    var s = """
    anyllm \(libraryVersion()) — one command for every LLM provider (libanyllm)

    Usage:
      anyllm [options] PROMPT...         send PROMPT (words joined by spaces), stream the answer to stdout
      echo PROMPT | anyllm [options]     the prompt from standard input; a "-" among the PROMPT words
                                         stands for standard input (cat notes.txt | anyllm "Summarize:" -)
      anyllm providers [--json]          the providers: protocol, base URL, key variable, key set or not
      anyllm --version | --help

    Options:
      -m, --model PROVIDER:MODEL   the model, e.g. openai:gpt-4.1-mini (default: $ANYLLM_MODEL, else a
                                   default model of the first provider whose API key variable is set:
                                   openai:gpt-4.1-mini, anthropic:claude-haiku-4-5, gemini:gemini-2.5-flash ...)
      -s, --system TEXT            system prompt
      -t, --temperature N          sampling temperature
          --max-tokens N           longest answer, in tokens
          --no-stream              wait for the whole answer instead of streaming it
          --json                   print the ChatCompletion as JSON; when streaming, each
                                   ChatCompletionChunk as one JSON line; errors as {"error": ...}
          --hide-reasoning         do not show the model's reasoning (shown on stderr by default)
      -o, --option KEY=VALUE       any other completion() parameter; VALUE is parsed as JSON when it is
                                   JSON, else sent as a string (-o seed=7 -o reasoning_effort=low)
          --api-base URL           the provider's base URL (default: its own, or its base URL variable)
          --api-key KEY            the API key (default: the provider's key variable)
          --timeout SECONDS        total time allowed per attempt (default 600)
          --retries N              retries after 429, 5xx, timeouts, connection failures (default 2)
      -h, --help                   this help
      -V, --version                the version

    Examples:
      anyllm "Why is the sky blue?"
      anyllm -m anthropic:claude-haiku-4-5 -s "Answer in one sentence." "What is a monad?"
      git diff | anyllm -m openai:gpt-4.1-mini "Write a commit message for this diff:" -
      anyllm -m groq:llama-3.1-8b-instant -t 0 --max-tokens 50 "Name three primes"
      anyllm --json --no-stream "Say hi" | jq -r '.choices[0].message.content'
      anyllm -m deepseek:deepseek-reasoner "Is 1001 prime?" 2>/dev/null    # answer only
      anyllm -m ollama:llama3.2 --api-base http://gpu-box:11434 "Hello"
      anyllm -m openai:gpt-4.1-mini -o response_format='{"type":"json_object"}' "3 colors as JSON"
      anyllm providers

    Environment:
      ANYLLM_MODEL                 the default model (provider:model)
      OPENAI_API_KEY, ...          each provider's key variable (see anyllm providers)
      NO_COLOR                     no dimmed reasoning on a terminal

    Exit codes (10 + the library's anyllm_status when a call fails):

    """
    for (code, what) in Exit.table {
        let c = String(code)
        s += "  " + c + String(repeating: " ", count: 5 - c.count) + what + "\n"
    }
    return s
}

let shortUsage = "usage: anyllm [options] PROMPT...  |  echo PROMPT | anyllm  |  anyllm providers  (anyllm --help)"
