// Typed errors of the Petals bridge. Each carries the context an operator needs and a `hint` with the fix.

export class PetalsBridgeError extends Error {
  readonly hint: string

  constructor (message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.hint = hint
  }
}

/** The model's config.json could not be found or read. */
export class ModelConfigError extends PetalsBridgeError {
  readonly model: string
  readonly searched: string[]

  constructor (model: string, message: string, hint: string, searched: string[] = [], options?: { cause?: unknown }) {
    super(message, hint, options)
    this.model = model
    this.searched = searched
  }
}

/** The model's family is not one Petals serves (bloom, llama, falcon, mixtral). */
export class UnsupportedModelError extends PetalsBridgeError {
  readonly model: string
  readonly modelType: string

  constructor (model: string, modelType: string) {
    super(
      `Petals does not support model type "${modelType}" (model ${model}); it serves bloom, llama, falcon and mixtral models`,
      'Choose a model whose config.json has model_type bloom, llama, falcon or mixtral (for example meta-llama/Meta-Llama-3.1-405B-Instruct or mistralai/Mixtral-8x22B-Instruct-v0.1)'
    )
    this.model = model
    this.modelType = modelType
  }
}

/** The configuration would produce a command Petals refuses (or petalmesh forbids). */
export class InvalidPetalsCommandError extends PetalsBridgeError {
  /** The configuration key (or CLI flag) at fault. */
  readonly field: string

  constructor (field: string, message: string, hint: string) {
    super(message, hint)
    this.field = field
  }
}

/** The Petals identity file exists but is not a usable libp2p RSA private key. */
export class IdentityError extends PetalsBridgeError {
  readonly path: string

  constructor (path: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, hint, options)
    this.path = path
  }
}

/** The Hugging Face token could not be read from the configured file or environment variable. */
export class TokenError extends PetalsBridgeError {}

/** The backend was used after close(). */
export class BackendClosedError extends PetalsBridgeError {
  constructor () {
    super('The Petals backend is closed', 'Create a new backend to serve blocks again')
  }
}

/** The client bridge (`petalmesh generate`) failed. */
export class GenerateError extends PetalsBridgeError {
  readonly kind: string

  constructor (kind: string, message: string, hint: string) {
    super(message, hint)
    this.kind = kind
  }
}
