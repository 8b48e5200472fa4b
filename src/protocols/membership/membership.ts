import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum NodeStateCode {
  STANDBY = 'STANDBY',
  JOINING = 'JOINING',
  LOADING = 'LOADING',
  ONLINE = 'ONLINE',
  LEAVING = 'LEAVING',
  OFFLINE = 'OFFLINE'
}

enum __NodeStateCodeValues {
  STANDBY = 0,
  JOINING = 1,
  LOADING = 2,
  ONLINE = 3,
  LEAVING = 4,
  OFFLINE = 5
}

export namespace NodeStateCode {
  export const codec = (): Codec<NodeStateCode> => {
    return enumeration<NodeStateCode>(__NodeStateCodeValues)
  }
}

export enum Reachability {
  UNKNOWN = 'UNKNOWN',
  DIRECT = 'DIRECT',
  MAPPED = 'MAPPED',
  RELAYED = 'RELAYED'
}

enum __ReachabilityValues {
  UNKNOWN = 0,
  DIRECT = 1,
  MAPPED = 2,
  RELAYED = 3
}

export namespace Reachability {
  export const codec = (): Codec<Reachability> => {
    return enumeration<Reachability>(__ReachabilityValues)
  }
}

export interface Span {
  start: number
  end: number
}

export namespace Span {
  let _codec: Codec<Span>

  export const codec = (): Codec<Span> => {
    if (_codec == null) {
      _codec = message<Span>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.start != null && obj.start !== 0)) {
          w.uint32(8)
          w.uint32(obj.start)
        }

        if ((obj.end != null && obj.end !== 0)) {
          w.uint32(16)
          w.uint32(obj.end)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          start: 0,
          end: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.start = reader.uint32()
              break
            }
            case 2: {
              obj.end = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.start`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.end`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SpanStartFieldEvent {
    field: '$.start'
    value: number
  }

  export interface SpanEndFieldEvent {
    field: '$.end'
    value: number
  }

  export function encode (obj: Partial<Span>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Span.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Span>): Span {
    return decodeMessage(buf, Span.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Span>): Generator<SpanStartFieldEvent | SpanEndFieldEvent> {
    return streamMessage(buf, Span.codec(), opts)
  }
}

export interface Hardware {
  type: string
  device: string
  vramGb: number
}

export namespace Hardware {
  let _codec: Codec<Hardware>

  export const codec = (): Codec<Hardware> => {
    if (_codec == null) {
      _codec = message<Hardware>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.type != null && obj.type !== '')) {
          w.uint32(10)
          w.string(obj.type)
        }

        if ((obj.device != null && obj.device !== '')) {
          w.uint32(18)
          w.string(obj.device)
        }

        if ((obj.vramGb != null && obj.vramGb !== 0)) {
          w.uint32(29)
          w.float(obj.vramGb)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: '',
          device: '',
          vramGb: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = reader.string()
              break
            }
            case 2: {
              obj.device = reader.string()
              break
            }
            case 3: {
              obj.vramGb = reader.float()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.device`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.vramGb`,
                value: reader.float()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HardwareTypeFieldEvent {
    field: '$.type'
    value: string
  }

  export interface HardwareDeviceFieldEvent {
    field: '$.device'
    value: string
  }

  export interface HardwareVramGbFieldEvent {
    field: '$.vramGb'
    value: number
  }

  export function encode (obj: Partial<Hardware>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hardware.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hardware>): Hardware {
    return decodeMessage(buf, Hardware.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hardware>): Generator<HardwareTypeFieldEvent | HardwareDeviceFieldEvent | HardwareVramGbFieldEvent> {
    return streamMessage(buf, Hardware.codec(), opts)
  }
}

export interface PetalsInfo {
  peerId: string
  multiaddrs: string[]
  torchDtype: string
  quantType: string
  adapters: string[]
  state: string
  dhtReady?: boolean
}

export namespace PetalsInfo {
  let _codec: Codec<PetalsInfo>

  export const codec = (): Codec<PetalsInfo> => {
    if (_codec == null) {
      _codec = message<PetalsInfo>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if (obj.multiaddrs != null && obj.multiaddrs.length > 0) {
          for (const value of obj.multiaddrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.torchDtype != null && obj.torchDtype !== '')) {
          w.uint32(26)
          w.string(obj.torchDtype)
        }

        if ((obj.quantType != null && obj.quantType !== '')) {
          w.uint32(34)
          w.string(obj.quantType)
        }

        if (obj.adapters != null && obj.adapters.length > 0) {
          for (const value of obj.adapters) {
            w.uint32(42)
            w.string(value)
          }
        }

        if ((obj.state != null && obj.state !== '')) {
          w.uint32(50)
          w.string(obj.state)
        }

        if (obj.dhtReady != null) {
          w.uint32(56)
          w.bool(obj.dhtReady)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          multiaddrs: [],
          torchDtype: '',
          quantType: '',
          adapters: [],
          state: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs.length === opts.limits.multiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "multiaddrs" had too many elements')
              }

              obj.multiaddrs.push(reader.string())
              break
            }
            case 3: {
              obj.torchDtype = reader.string()
              break
            }
            case 4: {
              obj.quantType = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.adapters != null && obj.adapters.length === opts.limits.adapters) {
                throw new MaxLengthError('Decode error - repeated field "adapters" had too many elements')
              }

              obj.adapters.push(reader.string())
              break
            }
            case 6: {
              obj.state = reader.string()
              break
            }
            case 7: {
              obj.dhtReady = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          multiaddrs: 0,
          adapters: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs === opts.limits.multiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "multiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.multiaddrs[]`,
                index: obj.multiaddrs,
                value: reader.string()
              }

              obj.multiaddrs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.torchDtype`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.quantType`,
                value: reader.string()
              }
              break
            }
            case 5: {
              if (opts.limits?.adapters != null && obj.adapters === opts.limits.adapters) {
                throw new MaxLengthError('Streaming decode error - repeated field "adapters" had too many elements')
              }

              yield {
                field: `${prefix}.adapters[]`,
                index: obj.adapters,
                value: reader.string()
              }

              obj.adapters++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.state`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.dhtReady`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PetalsInfoPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface PetalsInfoMultiaddrsFieldEvent {
    field: '$.multiaddrs[]'
    index: number
    value: string
  }

  export interface PetalsInfoTorchDtypeFieldEvent {
    field: '$.torchDtype'
    value: string
  }

  export interface PetalsInfoQuantTypeFieldEvent {
    field: '$.quantType'
    value: string
  }

  export interface PetalsInfoAdaptersFieldEvent {
    field: '$.adapters[]'
    index: number
    value: string
  }

  export interface PetalsInfoStateFieldEvent {
    field: '$.state'
    value: string
  }

  export interface PetalsInfoDhtReadyFieldEvent {
    field: '$.dhtReady'
    value: boolean
  }

  export function encode (obj: Partial<PetalsInfo>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PetalsInfo.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PetalsInfo>): PetalsInfo {
    return decodeMessage(buf, PetalsInfo.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PetalsInfo>): Generator<PetalsInfoPeerIdFieldEvent | PetalsInfoMultiaddrsFieldEvent | PetalsInfoTorchDtypeFieldEvent | PetalsInfoQuantTypeFieldEvent | PetalsInfoAdaptersFieldEvent | PetalsInfoStateFieldEvent | PetalsInfoDhtReadyFieldEvent> {
    return streamMessage(buf, PetalsInfo.codec(), opts)
  }
}

export interface NodeRecord {
  protocol: number
  peerId: Uint8Array<ArrayBuffer>
  instance: bigint
  seq: bigint
  timestampMs: bigint
  model: string
  totalBlocks: number
  span?: Span
  state: NodeStateCode
  loadingDone: number
  loadingTotal: number
  capacity: number
  throughput: number
  hardware?: Hardware
  publicName: string
  softwareVersion: string
  petals?: PetalsInfo
  tokensSinceLast: bigint
  tokensTotal: bigint
  claimMs: bigint
  reachability: Reachability
  replication: number
  prevState?: NodeStateCode
  prevSpan?: Span
  addrs: string[]
  planner?: PlannerSettings
}

export namespace NodeRecord {
  let _codec: Codec<NodeRecord>

  export const codec = (): Codec<NodeRecord> => {
    if (_codec == null) {
      _codec = message<NodeRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.protocol != null && obj.protocol !== 0)) {
          w.uint32(8)
          w.uint32(obj.protocol)
        }

        if ((obj.peerId != null && obj.peerId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.peerId)
        }

        if ((obj.instance != null && obj.instance !== 0n)) {
          w.uint32(25)
          w.fixed64(obj.instance)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(32)
          w.uint64(obj.seq)
        }

        if ((obj.timestampMs != null && obj.timestampMs !== 0n)) {
          w.uint32(40)
          w.uint64(obj.timestampMs)
        }

        if ((obj.model != null && obj.model !== '')) {
          w.uint32(50)
          w.string(obj.model)
        }

        if ((obj.totalBlocks != null && obj.totalBlocks !== 0)) {
          w.uint32(56)
          w.uint32(obj.totalBlocks)
        }

        if (obj.span != null) {
          w.uint32(66)
          Span.codec().encode(obj.span, w)
        }

        if (obj.state != null && __NodeStateCodeValues[obj.state] !== 0) {
          w.uint32(72)
          NodeStateCode.codec().encode(obj.state, w)
        }

        if ((obj.loadingDone != null && obj.loadingDone !== 0)) {
          w.uint32(80)
          w.uint32(obj.loadingDone)
        }

        if ((obj.loadingTotal != null && obj.loadingTotal !== 0)) {
          w.uint32(88)
          w.uint32(obj.loadingTotal)
        }

        if ((obj.capacity != null && obj.capacity !== 0)) {
          w.uint32(96)
          w.uint32(obj.capacity)
        }

        if ((obj.throughput != null && obj.throughput !== 0)) {
          w.uint32(109)
          w.float(obj.throughput)
        }

        if (obj.hardware != null) {
          w.uint32(114)
          Hardware.codec().encode(obj.hardware, w)
        }

        if ((obj.publicName != null && obj.publicName !== '')) {
          w.uint32(122)
          w.string(obj.publicName)
        }

        if ((obj.softwareVersion != null && obj.softwareVersion !== '')) {
          w.uint32(130)
          w.string(obj.softwareVersion)
        }

        if (obj.petals != null) {
          w.uint32(138)
          PetalsInfo.codec().encode(obj.petals, w)
        }

        if ((obj.tokensSinceLast != null && obj.tokensSinceLast !== 0n)) {
          w.uint32(144)
          w.uint64(obj.tokensSinceLast)
        }

        if ((obj.tokensTotal != null && obj.tokensTotal !== 0n)) {
          w.uint32(152)
          w.uint64(obj.tokensTotal)
        }

        if ((obj.claimMs != null && obj.claimMs !== 0n)) {
          w.uint32(160)
          w.uint64(obj.claimMs)
        }

        if (obj.reachability != null && __ReachabilityValues[obj.reachability] !== 0) {
          w.uint32(168)
          Reachability.codec().encode(obj.reachability, w)
        }

        if ((obj.replication != null && obj.replication !== 0)) {
          w.uint32(176)
          w.uint32(obj.replication)
        }

        if (obj.prevState != null) {
          w.uint32(184)
          NodeStateCode.codec().encode(obj.prevState, w)
        }

        if (obj.prevSpan != null) {
          w.uint32(194)
          Span.codec().encode(obj.prevSpan, w)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(202)
            w.string(value)
          }
        }

        if (obj.planner != null) {
          w.uint32(210)
          PlannerSettings.codec().encode(obj.planner, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          protocol: 0,
          peerId: uint8ArrayAlloc(0),
          instance: 0n,
          seq: 0n,
          timestampMs: 0n,
          model: '',
          totalBlocks: 0,
          state: NodeStateCode.STANDBY,
          loadingDone: 0,
          loadingTotal: 0,
          capacity: 0,
          throughput: 0,
          publicName: '',
          softwareVersion: '',
          tokensSinceLast: 0n,
          tokensTotal: 0n,
          claimMs: 0n,
          reachability: Reachability.UNKNOWN,
          replication: 0,
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.protocol = reader.uint32()
              break
            }
            case 2: {
              obj.peerId = reader.bytes()
              break
            }
            case 3: {
              obj.instance = reader.fixed64()
              break
            }
            case 4: {
              obj.seq = reader.uint64()
              break
            }
            case 5: {
              obj.timestampMs = reader.uint64()
              break
            }
            case 6: {
              obj.model = reader.string()
              break
            }
            case 7: {
              obj.totalBlocks = reader.uint32()
              break
            }
            case 8: {
              obj.span = Span.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.span
              })
              break
            }
            case 9: {
              obj.state = NodeStateCode.codec().decode(reader)
              break
            }
            case 10: {
              obj.loadingDone = reader.uint32()
              break
            }
            case 11: {
              obj.loadingTotal = reader.uint32()
              break
            }
            case 12: {
              obj.capacity = reader.uint32()
              break
            }
            case 13: {
              obj.throughput = reader.float()
              break
            }
            case 14: {
              obj.hardware = Hardware.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hardware
              })
              break
            }
            case 15: {
              obj.publicName = reader.string()
              break
            }
            case 16: {
              obj.softwareVersion = reader.string()
              break
            }
            case 17: {
              obj.petals = PetalsInfo.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.petals
              })
              break
            }
            case 18: {
              obj.tokensSinceLast = reader.uint64()
              break
            }
            case 19: {
              obj.tokensTotal = reader.uint64()
              break
            }
            case 20: {
              obj.claimMs = reader.uint64()
              break
            }
            case 21: {
              obj.reachability = Reachability.codec().decode(reader)
              break
            }
            case 22: {
              obj.replication = reader.uint32()
              break
            }
            case 23: {
              obj.prevState = NodeStateCode.codec().decode(reader)
              break
            }
            case 24: {
              obj.prevSpan = Span.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.prevSpan
              })
              break
            }
            case 25: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 26: {
              obj.planner = PlannerSettings.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.planner
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.protocol`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.instance`,
                value: reader.fixed64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.timestampMs`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.model`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.totalBlocks`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield * Span.codec().stream(reader, reader.uint32(), `${prefix}.span`, {
                limits: opts.limits?.span
              })

              break
            }
            case 9: {
              yield {
                field: `${prefix}.state`,
                value: NodeStateCode.codec().decode(reader)
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.loadingDone`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.loadingTotal`,
                value: reader.uint32()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.capacity`,
                value: reader.uint32()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.throughput`,
                value: reader.float()
              }
              break
            }
            case 14: {
              yield * Hardware.codec().stream(reader, reader.uint32(), `${prefix}.hardware`, {
                limits: opts.limits?.hardware
              })

              break
            }
            case 15: {
              yield {
                field: `${prefix}.publicName`,
                value: reader.string()
              }
              break
            }
            case 16: {
              yield {
                field: `${prefix}.softwareVersion`,
                value: reader.string()
              }
              break
            }
            case 17: {
              yield * PetalsInfo.codec().stream(reader, reader.uint32(), `${prefix}.petals`, {
                limits: opts.limits?.petals
              })

              break
            }
            case 18: {
              yield {
                field: `${prefix}.tokensSinceLast`,
                value: reader.uint64()
              }
              break
            }
            case 19: {
              yield {
                field: `${prefix}.tokensTotal`,
                value: reader.uint64()
              }
              break
            }
            case 20: {
              yield {
                field: `${prefix}.claimMs`,
                value: reader.uint64()
              }
              break
            }
            case 21: {
              yield {
                field: `${prefix}.reachability`,
                value: Reachability.codec().decode(reader)
              }
              break
            }
            case 22: {
              yield {
                field: `${prefix}.replication`,
                value: reader.uint32()
              }
              break
            }
            case 23: {
              yield {
                field: `${prefix}.prevState`,
                value: NodeStateCode.codec().decode(reader)
              }
              break
            }
            case 24: {
              yield * Span.codec().stream(reader, reader.uint32(), `${prefix}.prevSpan`, {
                limits: opts.limits?.prevSpan
              })

              break
            }
            case 25: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

              break
            }
            case 26: {
              yield * PlannerSettings.codec().stream(reader, reader.uint32(), `${prefix}.planner`, {
                limits: opts.limits?.planner
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface NodeRecordProtocolFieldEvent {
    field: '$.protocol'
    value: number
  }

  export interface NodeRecordPeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface NodeRecordInstanceFieldEvent {
    field: '$.instance'
    value: bigint
  }

  export interface NodeRecordSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface NodeRecordTimestampMsFieldEvent {
    field: '$.timestampMs'
    value: bigint
  }

  export interface NodeRecordModelFieldEvent {
    field: '$.model'
    value: string
  }

  export interface NodeRecordTotalBlocksFieldEvent {
    field: '$.totalBlocks'
    value: number
  }

  export interface NodeRecordSpanStartFieldEvent {
    field: '$.span.start'
    value: number
  }

  export interface NodeRecordSpanEndFieldEvent {
    field: '$.span.end'
    value: number
  }

  export interface NodeRecordStateFieldEvent {
    field: '$.state'
    value: NodeStateCode
  }

  export interface NodeRecordLoadingDoneFieldEvent {
    field: '$.loadingDone'
    value: number
  }

  export interface NodeRecordLoadingTotalFieldEvent {
    field: '$.loadingTotal'
    value: number
  }

  export interface NodeRecordCapacityFieldEvent {
    field: '$.capacity'
    value: number
  }

  export interface NodeRecordThroughputFieldEvent {
    field: '$.throughput'
    value: number
  }

  export interface NodeRecordHardwareTypeFieldEvent {
    field: '$.hardware.type'
    value: string
  }

  export interface NodeRecordHardwareDeviceFieldEvent {
    field: '$.hardware.device'
    value: string
  }

  export interface NodeRecordHardwareVramGbFieldEvent {
    field: '$.hardware.vramGb'
    value: number
  }

  export interface NodeRecordPublicNameFieldEvent {
    field: '$.publicName'
    value: string
  }

  export interface NodeRecordSoftwareVersionFieldEvent {
    field: '$.softwareVersion'
    value: string
  }

  export interface NodeRecordPetalsPeerIdFieldEvent {
    field: '$.petals.peerId'
    value: string
  }

  export interface NodeRecordPetalsMultiaddrsFieldEvent {
    field: '$.petals.multiaddrs[]'
    index: number
    value: string
  }

  export interface NodeRecordPetalsTorchDtypeFieldEvent {
    field: '$.petals.torchDtype'
    value: string
  }

  export interface NodeRecordPetalsQuantTypeFieldEvent {
    field: '$.petals.quantType'
    value: string
  }

  export interface NodeRecordPetalsAdaptersFieldEvent {
    field: '$.petals.adapters[]'
    index: number
    value: string
  }

  export interface NodeRecordPetalsStateFieldEvent {
    field: '$.petals.state'
    value: string
  }

  export interface NodeRecordPetalsDhtReadyFieldEvent {
    field: '$.petals.dhtReady'
    value: boolean
  }

  export interface NodeRecordTokensSinceLastFieldEvent {
    field: '$.tokensSinceLast'
    value: bigint
  }

  export interface NodeRecordTokensTotalFieldEvent {
    field: '$.tokensTotal'
    value: bigint
  }

  export interface NodeRecordClaimMsFieldEvent {
    field: '$.claimMs'
    value: bigint
  }

  export interface NodeRecordReachabilityFieldEvent {
    field: '$.reachability'
    value: Reachability
  }

  export interface NodeRecordReplicationFieldEvent {
    field: '$.replication'
    value: number
  }

  export interface NodeRecordPrevStateFieldEvent {
    field: '$.prevState'
    value: NodeStateCode
  }

  export interface NodeRecordPrevSpanStartFieldEvent {
    field: '$.prevSpan.start'
    value: number
  }

  export interface NodeRecordPrevSpanEndFieldEvent {
    field: '$.prevSpan.end'
    value: number
  }

  export interface NodeRecordAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface NodeRecordPlannerRevisionFieldEvent {
    field: '$.planner.revision'
    value: number
  }

  export interface NodeRecordPlannerNameFieldEvent {
    field: '$.planner.name'
    value: string
  }

  export interface NodeRecordPlannerSettleMsFieldEvent {
    field: '$.planner.settleMs'
    value: number
  }

  export interface NodeRecordPlannerMinGainFieldEvent {
    field: '$.planner.minGain'
    value: number
  }

  export interface NodeRecordPlannerReloadMsFieldEvent {
    field: '$.planner.reloadMs'
    value: bigint
  }

  export interface NodeRecordPlannerCooldownMsFieldEvent {
    field: '$.planner.cooldownMs'
    value: bigint
  }

  export function encode (obj: Partial<NodeRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NodeRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeRecord>): NodeRecord {
    return decodeMessage(buf, NodeRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeRecord>): Generator<NodeRecordProtocolFieldEvent | NodeRecordPeerIdFieldEvent | NodeRecordInstanceFieldEvent | NodeRecordSeqFieldEvent | NodeRecordTimestampMsFieldEvent | NodeRecordModelFieldEvent | NodeRecordTotalBlocksFieldEvent | NodeRecordSpanStartFieldEvent | NodeRecordSpanEndFieldEvent | NodeRecordStateFieldEvent | NodeRecordLoadingDoneFieldEvent | NodeRecordLoadingTotalFieldEvent | NodeRecordCapacityFieldEvent | NodeRecordThroughputFieldEvent | NodeRecordHardwareTypeFieldEvent | NodeRecordHardwareDeviceFieldEvent | NodeRecordHardwareVramGbFieldEvent | NodeRecordPublicNameFieldEvent | NodeRecordSoftwareVersionFieldEvent | NodeRecordPetalsPeerIdFieldEvent | NodeRecordPetalsMultiaddrsFieldEvent | NodeRecordPetalsTorchDtypeFieldEvent | NodeRecordPetalsQuantTypeFieldEvent | NodeRecordPetalsAdaptersFieldEvent | NodeRecordPetalsStateFieldEvent | NodeRecordPetalsDhtReadyFieldEvent | NodeRecordTokensSinceLastFieldEvent | NodeRecordTokensTotalFieldEvent | NodeRecordClaimMsFieldEvent | NodeRecordReachabilityFieldEvent | NodeRecordReplicationFieldEvent | NodeRecordPrevStateFieldEvent | NodeRecordPrevSpanStartFieldEvent | NodeRecordPrevSpanEndFieldEvent | NodeRecordAddrsFieldEvent | NodeRecordPlannerRevisionFieldEvent | NodeRecordPlannerNameFieldEvent | NodeRecordPlannerSettleMsFieldEvent | NodeRecordPlannerMinGainFieldEvent | NodeRecordPlannerReloadMsFieldEvent | NodeRecordPlannerCooldownMsFieldEvent> {
    return streamMessage(buf, NodeRecord.codec(), opts)
  }
}

export interface PlannerSettings {
  revision: number
  name: string
  settleMs: number
  minGain: number
  reloadMs: bigint
  cooldownMs: bigint
}

export namespace PlannerSettings {
  let _codec: Codec<PlannerSettings>

  export const codec = (): Codec<PlannerSettings> => {
    if (_codec == null) {
      _codec = message<PlannerSettings>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.revision != null && obj.revision !== 0)) {
          w.uint32(8)
          w.uint32(obj.revision)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if ((obj.settleMs != null && obj.settleMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.settleMs)
        }

        if ((obj.minGain != null && obj.minGain !== 0)) {
          w.uint32(37)
          w.float(obj.minGain)
        }

        if ((obj.reloadMs != null && obj.reloadMs !== 0n)) {
          w.uint32(40)
          w.uint64(obj.reloadMs)
        }

        if ((obj.cooldownMs != null && obj.cooldownMs !== 0n)) {
          w.uint32(48)
          w.uint64(obj.cooldownMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          revision: 0,
          name: '',
          settleMs: 0,
          minGain: 0,
          reloadMs: 0n,
          cooldownMs: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.revision = reader.uint32()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.settleMs = reader.uint32()
              break
            }
            case 4: {
              obj.minGain = reader.float()
              break
            }
            case 5: {
              obj.reloadMs = reader.uint64()
              break
            }
            case 6: {
              obj.cooldownMs = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.revision`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.settleMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.minGain`,
                value: reader.float()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.reloadMs`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.cooldownMs`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PlannerSettingsRevisionFieldEvent {
    field: '$.revision'
    value: number
  }

  export interface PlannerSettingsNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface PlannerSettingsSettleMsFieldEvent {
    field: '$.settleMs'
    value: number
  }

  export interface PlannerSettingsMinGainFieldEvent {
    field: '$.minGain'
    value: number
  }

  export interface PlannerSettingsReloadMsFieldEvent {
    field: '$.reloadMs'
    value: bigint
  }

  export interface PlannerSettingsCooldownMsFieldEvent {
    field: '$.cooldownMs'
    value: bigint
  }

  export function encode (obj: Partial<PlannerSettings>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PlannerSettings.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PlannerSettings>): PlannerSettings {
    return decodeMessage(buf, PlannerSettings.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PlannerSettings>): Generator<PlannerSettingsRevisionFieldEvent | PlannerSettingsNameFieldEvent | PlannerSettingsSettleMsFieldEvent | PlannerSettingsMinGainFieldEvent | PlannerSettingsReloadMsFieldEvent | PlannerSettingsCooldownMsFieldEvent> {
    return streamMessage(buf, PlannerSettings.codec(), opts)
  }
}

export interface SignedRecord {
  record: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedRecord {
  let _codec: Codec<SignedRecord>

  export const codec = (): Codec<SignedRecord> => {
    if (_codec == null) {
      _codec = message<SignedRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.record != null && obj.record.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.record)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          record: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.record = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.record`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SignedRecordRecordFieldEvent {
    field: '$.record'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedRecordSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedRecord>): SignedRecord {
    return decodeMessage(buf, SignedRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedRecord>): Generator<SignedRecordRecordFieldEvent | SignedRecordSignatureFieldEvent> {
    return streamMessage(buf, SignedRecord.codec(), opts)
  }
}

export interface Heartbeat {
  instance: bigint
  seq: bigint
  timestampMs: bigint
  state: NodeStateCode
  recordSeq: bigint
  loadingDone: number
  tokensSinceLast: bigint
}

export namespace Heartbeat {
  let _codec: Codec<Heartbeat>

  export const codec = (): Codec<Heartbeat> => {
    if (_codec == null) {
      _codec = message<Heartbeat>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.instance != null && obj.instance !== 0n)) {
          w.uint32(9)
          w.fixed64(obj.instance)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(16)
          w.uint64(obj.seq)
        }

        if ((obj.timestampMs != null && obj.timestampMs !== 0n)) {
          w.uint32(24)
          w.uint64(obj.timestampMs)
        }

        if (obj.state != null && __NodeStateCodeValues[obj.state] !== 0) {
          w.uint32(32)
          NodeStateCode.codec().encode(obj.state, w)
        }

        if ((obj.recordSeq != null && obj.recordSeq !== 0n)) {
          w.uint32(40)
          w.uint64(obj.recordSeq)
        }

        if ((obj.loadingDone != null && obj.loadingDone !== 0)) {
          w.uint32(48)
          w.uint32(obj.loadingDone)
        }

        if ((obj.tokensSinceLast != null && obj.tokensSinceLast !== 0n)) {
          w.uint32(56)
          w.uint64(obj.tokensSinceLast)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          instance: 0n,
          seq: 0n,
          timestampMs: 0n,
          state: NodeStateCode.STANDBY,
          recordSeq: 0n,
          loadingDone: 0,
          tokensSinceLast: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.instance = reader.fixed64()
              break
            }
            case 2: {
              obj.seq = reader.uint64()
              break
            }
            case 3: {
              obj.timestampMs = reader.uint64()
              break
            }
            case 4: {
              obj.state = NodeStateCode.codec().decode(reader)
              break
            }
            case 5: {
              obj.recordSeq = reader.uint64()
              break
            }
            case 6: {
              obj.loadingDone = reader.uint32()
              break
            }
            case 7: {
              obj.tokensSinceLast = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.instance`,
                value: reader.fixed64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.timestampMs`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.state`,
                value: NodeStateCode.codec().decode(reader)
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.recordSeq`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.loadingDone`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.tokensSinceLast`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HeartbeatInstanceFieldEvent {
    field: '$.instance'
    value: bigint
  }

  export interface HeartbeatSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface HeartbeatTimestampMsFieldEvent {
    field: '$.timestampMs'
    value: bigint
  }

  export interface HeartbeatStateFieldEvent {
    field: '$.state'
    value: NodeStateCode
  }

  export interface HeartbeatRecordSeqFieldEvent {
    field: '$.recordSeq'
    value: bigint
  }

  export interface HeartbeatLoadingDoneFieldEvent {
    field: '$.loadingDone'
    value: number
  }

  export interface HeartbeatTokensSinceLastFieldEvent {
    field: '$.tokensSinceLast'
    value: bigint
  }

  export function encode (obj: Partial<Heartbeat>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Heartbeat.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Heartbeat {
    return decodeMessage(buf, Heartbeat.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Generator<HeartbeatInstanceFieldEvent | HeartbeatSeqFieldEvent | HeartbeatTimestampMsFieldEvent | HeartbeatStateFieldEvent | HeartbeatRecordSeqFieldEvent | HeartbeatLoadingDoneFieldEvent | HeartbeatTokensSinceLastFieldEvent> {
    return streamMessage(buf, Heartbeat.codec(), opts)
  }
}

export interface Obituary {
  subject: Uint8Array<ArrayBuffer>
  subjectSeq: bigint
  timestampMs: bigint
}

export namespace Obituary {
  let _codec: Codec<Obituary>

  export const codec = (): Codec<Obituary> => {
    if (_codec == null) {
      _codec = message<Obituary>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.subject != null && obj.subject.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.subject)
        }

        if ((obj.subjectSeq != null && obj.subjectSeq !== 0n)) {
          w.uint32(16)
          w.uint64(obj.subjectSeq)
        }

        if ((obj.timestampMs != null && obj.timestampMs !== 0n)) {
          w.uint32(24)
          w.uint64(obj.timestampMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          subject: uint8ArrayAlloc(0),
          subjectSeq: 0n,
          timestampMs: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.subject = reader.bytes()
              break
            }
            case 2: {
              obj.subjectSeq = reader.uint64()
              break
            }
            case 3: {
              obj.timestampMs = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.subject`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.subjectSeq`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.timestampMs`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ObituarySubjectFieldEvent {
    field: '$.subject'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ObituarySubjectSeqFieldEvent {
    field: '$.subjectSeq'
    value: bigint
  }

  export interface ObituaryTimestampMsFieldEvent {
    field: '$.timestampMs'
    value: bigint
  }

  export function encode (obj: Partial<Obituary>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Obituary.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Obituary>): Obituary {
    return decodeMessage(buf, Obituary.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Obituary>): Generator<ObituarySubjectFieldEvent | ObituarySubjectSeqFieldEvent | ObituaryTimestampMsFieldEvent> {
    return streamMessage(buf, Obituary.codec(), opts)
  }
}

export interface SwarmMessage {
  record?: SignedRecord
  obituary?: Obituary
}

export namespace SwarmMessage {
  let _codec: Codec<SwarmMessage>

  export const codec = (): Codec<SwarmMessage> => {
    if (_codec == null) {
      _codec = message<SwarmMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.record != null) {
          w.uint32(10)
          SignedRecord.codec().encode(obj.record, w)
        }

        if (obj.obituary != null) {
          w.uint32(18)
          Obituary.codec().encode(obj.obituary, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.record = SignedRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.record
              })
              break
            }
            case 2: {
              obj.obituary = Obituary.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.obituary
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * SignedRecord.codec().stream(reader, reader.uint32(), `${prefix}.record`, {
                limits: opts.limits?.record
              })

              break
            }
            case 2: {
              yield * Obituary.codec().stream(reader, reader.uint32(), `${prefix}.obituary`, {
                limits: opts.limits?.obituary
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SwarmMessageRecordRecordFieldEvent {
    field: '$.record.record'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageRecordSignatureFieldEvent {
    field: '$.record.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageObituarySubjectFieldEvent {
    field: '$.obituary.subject'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SwarmMessageObituarySubjectSeqFieldEvent {
    field: '$.obituary.subjectSeq'
    value: bigint
  }

  export interface SwarmMessageObituaryTimestampMsFieldEvent {
    field: '$.obituary.timestampMs'
    value: bigint
  }

  export function encode (obj: Partial<SwarmMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SwarmMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SwarmMessage>): SwarmMessage {
    return decodeMessage(buf, SwarmMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SwarmMessage>): Generator<SwarmMessageRecordRecordFieldEvent | SwarmMessageRecordSignatureFieldEvent | SwarmMessageObituarySubjectFieldEvent | SwarmMessageObituarySubjectSeqFieldEvent | SwarmMessageObituaryTimestampMsFieldEvent> {
    return streamMessage(buf, SwarmMessage.codec(), opts)
  }
}

export interface ClaimPush {
  protocol: number
  claim?: SignedRecord
}

export namespace ClaimPush {
  let _codec: Codec<ClaimPush>

  export const codec = (): Codec<ClaimPush> => {
    if (_codec == null) {
      _codec = message<ClaimPush>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.protocol != null && obj.protocol !== 0)) {
          w.uint32(8)
          w.uint32(obj.protocol)
        }

        if (obj.claim != null) {
          w.uint32(18)
          SignedRecord.codec().encode(obj.claim, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          protocol: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.protocol = reader.uint32()
              break
            }
            case 2: {
              obj.claim = SignedRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.claim
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.protocol`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * SignedRecord.codec().stream(reader, reader.uint32(), `${prefix}.claim`, {
                limits: opts.limits?.claim
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ClaimPushProtocolFieldEvent {
    field: '$.protocol'
    value: number
  }

  export interface ClaimPushClaimRecordFieldEvent {
    field: '$.claim.record'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClaimPushClaimSignatureFieldEvent {
    field: '$.claim.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ClaimPush>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ClaimPush.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClaimPush>): ClaimPush {
    return decodeMessage(buf, ClaimPush.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClaimPush>): Generator<ClaimPushProtocolFieldEvent | ClaimPushClaimRecordFieldEvent | ClaimPushClaimSignatureFieldEvent> {
    return streamMessage(buf, ClaimPush.codec(), opts)
  }
}

export interface ClaimReply {
  protocol: number
  overlapping: SnapshotEntry[]
  error: string
}

export namespace ClaimReply {
  let _codec: Codec<ClaimReply>

  export const codec = (): Codec<ClaimReply> => {
    if (_codec == null) {
      _codec = message<ClaimReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.protocol != null && obj.protocol !== 0)) {
          w.uint32(8)
          w.uint32(obj.protocol)
        }

        if (obj.overlapping != null && obj.overlapping.length > 0) {
          for (const value of obj.overlapping) {
            w.uint32(18)
            SnapshotEntry.codec().encode(value, w)
          }
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(26)
          w.string(obj.error)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          protocol: 0,
          overlapping: [],
          error: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.protocol = reader.uint32()
              break
            }
            case 2: {
              if (opts.limits?.overlapping != null && obj.overlapping.length === opts.limits.overlapping) {
                throw new MaxLengthError('Decode error - repeated field "overlapping" had too many elements')
              }

              obj.overlapping.push(SnapshotEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.overlapping$
              }))
              break
            }
            case 3: {
              obj.error = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          overlapping: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.protocol`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              if (opts.limits?.overlapping != null && obj.overlapping === opts.limits.overlapping) {
                throw new MaxLengthError('Streaming decode error - repeated field "overlapping" had too many elements')
              }

              for (const evt of SnapshotEntry.codec().stream(reader, reader.uint32(), `${prefix}.overlapping[]`, {
                limits: opts.limits?.overlapping$
              })) {
                yield {
                  ...evt,
                  index: obj.overlapping
                }
              }

              obj.overlapping++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ClaimReplyProtocolFieldEvent {
    field: '$.protocol'
    value: number
  }

  export interface ClaimReplyOverlappingRecordRecordFieldEvent {
    field: '$.overlapping[].record.record'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClaimReplyOverlappingRecordSignatureFieldEvent {
    field: '$.overlapping[].record.signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ClaimReplyOverlappingLivenessFieldEvent {
    field: '$.overlapping[].liveness'
    value: NodeStateCode
    index: number
  }

  export interface ClaimReplyOverlappingHeardAgoMsFieldEvent {
    field: '$.overlapping[].heardAgoMs'
    value: bigint
    index: number
  }

  export interface ClaimReplyOverlappingHeartbeatSeqFieldEvent {
    field: '$.overlapping[].heartbeatSeq'
    value: bigint
    index: number
  }

  export interface ClaimReplyErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<ClaimReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ClaimReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClaimReply>): ClaimReply {
    return decodeMessage(buf, ClaimReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClaimReply>): Generator<ClaimReplyProtocolFieldEvent | ClaimReplyOverlappingRecordRecordFieldEvent | ClaimReplyOverlappingRecordSignatureFieldEvent | ClaimReplyOverlappingLivenessFieldEvent | ClaimReplyOverlappingHeardAgoMsFieldEvent | ClaimReplyOverlappingHeartbeatSeqFieldEvent | ClaimReplyErrorFieldEvent> {
    return streamMessage(buf, ClaimReply.codec(), opts)
  }
}

export interface SnapshotRequest {
  protocol: number
  model: string
  includeDeparted: boolean
}

export namespace SnapshotRequest {
  let _codec: Codec<SnapshotRequest>

  export const codec = (): Codec<SnapshotRequest> => {
    if (_codec == null) {
      _codec = message<SnapshotRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.protocol != null && obj.protocol !== 0)) {
          w.uint32(8)
          w.uint32(obj.protocol)
        }

        if ((obj.model != null && obj.model !== '')) {
          w.uint32(18)
          w.string(obj.model)
        }

        if ((obj.includeDeparted != null && obj.includeDeparted !== false)) {
          w.uint32(24)
          w.bool(obj.includeDeparted)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          protocol: 0,
          model: '',
          includeDeparted: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.protocol = reader.uint32()
              break
            }
            case 2: {
              obj.model = reader.string()
              break
            }
            case 3: {
              obj.includeDeparted = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.protocol`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.model`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.includeDeparted`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotRequestProtocolFieldEvent {
    field: '$.protocol'
    value: number
  }

  export interface SnapshotRequestModelFieldEvent {
    field: '$.model'
    value: string
  }

  export interface SnapshotRequestIncludeDepartedFieldEvent {
    field: '$.includeDeparted'
    value: boolean
  }

  export function encode (obj: Partial<SnapshotRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotRequest>): SnapshotRequest {
    return decodeMessage(buf, SnapshotRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotRequest>): Generator<SnapshotRequestProtocolFieldEvent | SnapshotRequestModelFieldEvent | SnapshotRequestIncludeDepartedFieldEvent> {
    return streamMessage(buf, SnapshotRequest.codec(), opts)
  }
}

export interface SnapshotEntry {
  record?: SignedRecord
  liveness: NodeStateCode
  heardAgoMs: bigint
  heartbeatSeq: bigint
}

export namespace SnapshotEntry {
  let _codec: Codec<SnapshotEntry>

  export const codec = (): Codec<SnapshotEntry> => {
    if (_codec == null) {
      _codec = message<SnapshotEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.record != null) {
          w.uint32(10)
          SignedRecord.codec().encode(obj.record, w)
        }

        if (obj.liveness != null && __NodeStateCodeValues[obj.liveness] !== 0) {
          w.uint32(16)
          NodeStateCode.codec().encode(obj.liveness, w)
        }

        if ((obj.heardAgoMs != null && obj.heardAgoMs !== 0n)) {
          w.uint32(24)
          w.uint64(obj.heardAgoMs)
        }

        if ((obj.heartbeatSeq != null && obj.heartbeatSeq !== 0n)) {
          w.uint32(32)
          w.uint64(obj.heartbeatSeq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          liveness: NodeStateCode.STANDBY,
          heardAgoMs: 0n,
          heartbeatSeq: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.record = SignedRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.record
              })
              break
            }
            case 2: {
              obj.liveness = NodeStateCode.codec().decode(reader)
              break
            }
            case 3: {
              obj.heardAgoMs = reader.uint64()
              break
            }
            case 4: {
              obj.heartbeatSeq = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * SignedRecord.codec().stream(reader, reader.uint32(), `${prefix}.record`, {
                limits: opts.limits?.record
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.liveness`,
                value: NodeStateCode.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.heardAgoMs`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.heartbeatSeq`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotEntryRecordRecordFieldEvent {
    field: '$.record.record'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SnapshotEntryRecordSignatureFieldEvent {
    field: '$.record.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SnapshotEntryLivenessFieldEvent {
    field: '$.liveness'
    value: NodeStateCode
  }

  export interface SnapshotEntryHeardAgoMsFieldEvent {
    field: '$.heardAgoMs'
    value: bigint
  }

  export interface SnapshotEntryHeartbeatSeqFieldEvent {
    field: '$.heartbeatSeq'
    value: bigint
  }

  export function encode (obj: Partial<SnapshotEntry>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotEntry.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotEntry>): SnapshotEntry {
    return decodeMessage(buf, SnapshotEntry.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotEntry>): Generator<SnapshotEntryRecordRecordFieldEvent | SnapshotEntryRecordSignatureFieldEvent | SnapshotEntryLivenessFieldEvent | SnapshotEntryHeardAgoMsFieldEvent | SnapshotEntryHeartbeatSeqFieldEvent> {
    return streamMessage(buf, SnapshotEntry.codec(), opts)
  }
}

export interface SnapshotResponse {
  protocol: number
  model: string
  entries: SnapshotEntry[]
  error: string
}

export namespace SnapshotResponse {
  let _codec: Codec<SnapshotResponse>

  export const codec = (): Codec<SnapshotResponse> => {
    if (_codec == null) {
      _codec = message<SnapshotResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.protocol != null && obj.protocol !== 0)) {
          w.uint32(8)
          w.uint32(obj.protocol)
        }

        if ((obj.model != null && obj.model !== '')) {
          w.uint32(18)
          w.string(obj.model)
        }

        if (obj.entries != null && obj.entries.length > 0) {
          for (const value of obj.entries) {
            w.uint32(26)
            SnapshotEntry.codec().encode(value, w)
          }
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(34)
          w.string(obj.error)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          protocol: 0,
          model: '',
          entries: [],
          error: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.protocol = reader.uint32()
              break
            }
            case 2: {
              obj.model = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              obj.entries.push(SnapshotEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            case 4: {
              obj.error = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          entries: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.protocol`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.model`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              for (const evt of SnapshotEntry.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                limits: opts.limits?.entries$
              })) {
                yield {
                  ...evt,
                  index: obj.entries
                }
              }

              obj.entries++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotResponseProtocolFieldEvent {
    field: '$.protocol'
    value: number
  }

  export interface SnapshotResponseModelFieldEvent {
    field: '$.model'
    value: string
  }

  export interface SnapshotResponseEntriesRecordRecordFieldEvent {
    field: '$.entries[].record.record'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SnapshotResponseEntriesRecordSignatureFieldEvent {
    field: '$.entries[].record.signature'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SnapshotResponseEntriesLivenessFieldEvent {
    field: '$.entries[].liveness'
    value: NodeStateCode
    index: number
  }

  export interface SnapshotResponseEntriesHeardAgoMsFieldEvent {
    field: '$.entries[].heardAgoMs'
    value: bigint
    index: number
  }

  export interface SnapshotResponseEntriesHeartbeatSeqFieldEvent {
    field: '$.entries[].heartbeatSeq'
    value: bigint
    index: number
  }

  export interface SnapshotResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<SnapshotResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotResponse>): SnapshotResponse {
    return decodeMessage(buf, SnapshotResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotResponse>): Generator<SnapshotResponseProtocolFieldEvent | SnapshotResponseModelFieldEvent | SnapshotResponseEntriesRecordRecordFieldEvent | SnapshotResponseEntriesRecordSignatureFieldEvent | SnapshotResponseEntriesLivenessFieldEvent | SnapshotResponseEntriesHeardAgoMsFieldEvent | SnapshotResponseEntriesHeartbeatSeqFieldEvent | SnapshotResponseErrorFieldEvent> {
    return streamMessage(buf, SnapshotResponse.codec(), opts)
  }
}
