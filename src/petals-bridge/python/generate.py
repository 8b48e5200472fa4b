"""petalmesh client bridge: generate text through a Petals swarm, streaming it as JSON lines on stdout.

Request (JSON on stdin): {"model", "prompt", "initialPeers", "dhtPrefix", "maxNewTokens", "temperature"}.
The Hugging Face token, if any, comes from the HF_TOKEN environment variable (never from argv).
Output lines: {"type": "ready"} | {"type": "token", "text"} | {"type": "done", "tokens"} |
              {"type": "error", "kind", "error", "message"}.
"""

import json
import os
import sys


def emit(payload):
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def main():
    request = json.loads(sys.stdin.read())
    try:
        from petals import AutoDistributedModelForCausalLM
        from transformers import AutoTokenizer
    except BaseException as e:
        emit({"type": "error", "kind": "petals-missing", "error": type(e).__name__, "message": str(e)})
        return 3

    token = os.environ.get("HF_TOKEN") or None
    model_name = request["model"]
    kwargs = {"initial_peers": request["initialPeers"]}
    if request.get("dhtPrefix"):
        kwargs["dht_prefix"] = request["dhtPrefix"]
    if token is not None:
        kwargs["token"] = token

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name, token=token)
        model = AutoDistributedModelForCausalLM.from_pretrained(model_name, **kwargs)
        emit({"type": "ready"})

        inputs = tokenizer(request["prompt"], return_tensors="pt")["input_ids"]
        max_new_tokens = int(request.get("maxNewTokens") or 64)
        temperature = float(request.get("temperature") or 0)
        options = {"max_new_tokens": 1}
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature)
        else:
            options.update(do_sample=False)

        generated, printed = [], ""
        with model.inference_session(max_length=inputs.shape[1] + max_new_tokens) as session:
            for step in range(max_new_tokens):
                outputs = model.generate(inputs if step == 0 else None, session=session, **options)
                token_id = int(outputs[0, -1])
                if token_id == tokenizer.eos_token_id:
                    break
                generated.append(token_id)
                text = tokenizer.decode(generated, skip_special_tokens=True)
                if text.endswith("\ufffd"):
                    continue  # an incomplete multi-byte character: wait for the next token
                if len(text) > len(printed):
                    emit({"type": "token", "text": text[len(printed):]})
                    printed = text
        emit({"type": "done", "tokens": len(generated)})
        return 0
    except KeyboardInterrupt:
        return 130
    except BaseException as e:
        emit({"type": "error", "kind": "exception", "error": type(e).__name__, "message": str(e)})
        return 1


if __name__ == "__main__":
    sys.exit(main())
