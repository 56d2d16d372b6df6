// Bench worker: a real ring-0 ChannelServer whose handler answers every request with one fixed answer (channel + codec cost without dispatch).

import { workerData } from 'node:worker_threads';
import { ChannelServer } from '../../r0/channel-server.js';
import { ServeControl } from '../../r0/serve-control.js';
import { PciRawCodec } from '../../shared/codec.js';

/** What the echo worker gets as workerData. */
export interface EchoWorkerData {
  /** A channel made by createChannel(). */
  channel: SharedArrayBuffer;
  /** The value every answer carries (`{ rc: 0, out: { value } }`). */
  value: number;
  /** Ring 0's private control block (ServeControl): the bench stops the loop through it. */
  control: SharedArrayBuffer;
}

/**
 * Serves `channel` like ring 0 does (copy-out of the frame, answer into the slot, spin budget,
 * sleep) but without decoding or dispatching: the answer is encoded once up front.
 */
export function runEchoServer(data: EchoWorkerData): void {
  const answer = new PciRawCodec().encodeAnswer({ rc: 0, out: { value: data.value } });
  new ChannelServer(data.channel, { handle: () => answer, poll: () => Number.POSITIVE_INFINITY }, { control: new ServeControl(data.control) }).run();
}

if (workerData && (workerData as EchoWorkerData).channel) runEchoServer(workerData as EchoWorkerData);
