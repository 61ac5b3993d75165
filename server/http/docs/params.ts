// Path parameters shared by the /api/docs routes.
import { z } from '@hono/zod-openapi'
import { roomNameProblem } from '../../protocol/room-name.js'

/** The room is one percent-encoded path segment: encodeURIComponent('team/notes'). */
export const RoomParam = z.object({
  room: z
    .string()
    .superRefine((room, context) => {
      const problem = roomNameProblem(room)
      if (problem !== null) context.addIssue({ code: 'custom', message: problem })
    })
    .openapi({
      param: { name: 'room', in: 'path' },
      description: 'The room name, percent-encoded as one segment',
      example: 'team%2Fnotes',
    }),
})
