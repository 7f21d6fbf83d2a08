/**
 * ONNX protobuf field numbers (onnx/onnx.proto, IR version 9) and enum values, in one named
 * table that our writer (export.ts, the as-is graph surgery) and our reader
 * (onnx-import/model.ts) share, so a number is written down once.
 */

export const F = {
  Model: { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opsetImport: 8, metadataProps: 14 },
  OpsetId: { domain: 1, version: 2 },
  StringEntry: { key: 1, value: 2 },
  Graph: { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15 },
  Node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 },
  Attribute: {
    name: 1,
    f: 2,
    i: 3,
    s: 4,
    t: 5,
    g: 6,
    floats: 7,
    ints: 8,
    strings: 9,
    tensors: 10,
    graphs: 11,
    type: 20,
    refAttrName: 21,
  },
  Tensor: {
    dims: 1,
    dataType: 2,
    segment: 3,
    floatData: 4,
    int32Data: 5,
    stringData: 6,
    int64Data: 7,
    name: 8,
    rawData: 9,
    doubleData: 10,
    uint64Data: 11,
    externalData: 13,
    dataLocation: 14,
  },
  ValueInfo: { name: 1, type: 2 },
  Type: { tensorType: 1 },
  TensorType: { elemType: 1, shape: 2 },
  Shape: { dim: 1 },
  Dim: { value: 1, param: 2 },
} as const;

/** AttributeProto.AttributeType */
export const ATTR = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** TensorProto.DataType */
export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** TensorProto.DataLocation.EXTERNAL */
export const DATA_LOCATION_EXTERNAL = 1;
