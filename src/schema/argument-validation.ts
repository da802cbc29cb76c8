import {
  defaultFieldResolver,
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import { checkJson, checkText, ruleFor } from "../services/input-rules.js";

/**
 * One validation step for every argument of every field: before a resolver (or a subscription's
 * subscribe) runs, each String and ID argument, each string inside input objects and lists, and
 * each key and string of a JSON argument is checked by its class (src/services/input-rules.ts),
 * walking the arguments with their GraphQL types. Errors are BAD_USER_INPUT naming the argument's
 * path (input.justification, fields[0], set["image.tag"]). Only fields that take string-bearing
 * arguments are wrapped, so result fields cost nothing.
 */
export function validateArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.args.some((arg) => carriesStrings(arg.type, new Set()))) continue;
      wrap(field);
    }
  }
  return schema;
}

function wrap(field: GraphQLField<unknown, unknown>): void {
  const check = (args: Record<string, unknown>) => {
    for (const arg of field.args) checkValue(arg.name, arg.name, arg.type, args[arg.name]);
  };
  const resolve = field.resolve ?? defaultFieldResolver;
  field.resolve = (source, args: Record<string, unknown>, context, info) => {
    check(args);
    return resolve(source, args, context, info);
  };
  const { subscribe } = field;
  if (subscribe) {
    field.subscribe = (source, args: Record<string, unknown>, context, info) => {
      check(args);
      return subscribe(source, args, context, info);
    };
  }
}

/** `name` is the nearest argument or input field name: it picks the rule for the strings below it. */
function checkValue(path: string, name: string, type: GraphQLInputType, value: unknown): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (Array.isArray(value)) value.forEach((item, i) => checkValue(`${path}[${i}]`, name, nullable.ofType as GraphQLInputType, item));
    return;
  }
  if (isInputObjectType(nullable)) {
    for (const field of Object.values(nullable.getFields())) checkValue(`${path}.${field.name}`, field.name, field.type, (value as Record<string, unknown>)[field.name]);
    return;
  }
  if (isScalarType(nullable)) {
    if (nullable.name === "JSON") checkJson(path, value, name);
    else if (typeof value === "string") checkText(path, value, ruleFor(name));
  }
}

function carriesStrings(type: GraphQLInputType, seen: Set<string>): boolean {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return carriesStrings(nullable.ofType as GraphQLInputType, seen);
  if (isInputObjectType(nullable)) {
    if (seen.has(nullable.name)) return false;
    seen.add(nullable.name);
    return Object.values(nullable.getFields()).some((f) => carriesStrings(f.type, seen));
  }
  // Custom scalars other than JSON (DateTime) parse their own input; enums are closed sets.
  return isScalarType(nullable) && (nullable.name === "String" || nullable.name === "ID" || nullable.name === "JSON");
}
